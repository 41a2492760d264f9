/**
 * Networks for the node bench: a testnet of separate node processes whose
 * genesis lists the bench's senders (it holds their keys) and, at scale,
 * derives many more accounts from a seed (receivers and state size). Reads
 * what each validator process used (peak RSS from /proc) and what its data
 * folder holds, and always cleans up: every process and folder it made is
 * removed on stop, on an error and on SIGINT/SIGTERM.
 */
import type { ChildProcess } from "node:child_process";
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addressFromPublicKey, formatAddress, type SecretKey } from "@edgeledger/sdk/protocol";
import { paths } from "../src/config/config.ts";
import { testnet } from "../src/config/homes.ts";
import { cleanup, freePortBase, startNode } from "../src/testing/harness.ts";

export interface NetworkSpec {
  readonly validators: number;
  /** The last validator runs the test-only build as an attacker (flood-votes, max-size). */
  readonly byzantine: boolean;
  /** Listed in genesis with `senderBalance` each. */
  readonly senders: readonly SecretKey[];
  readonly senderBalance: bigint;
  /** Accounts derived from a seed (genesis `derivedAccounts`), 0 for none. */
  readonly derived: { readonly seed: string; readonly count: number } | null;
}

export interface Network {
  readonly chainId: string;
  readonly urls: readonly string[];
  /** Where load goes: the honest validators (all of them without an attacker). */
  readonly submitUrls: readonly string[];
  readonly children: readonly ChildProcess[];
  /** Each validator's LevelDB folder. */
  readonly dataDirs: readonly string[];
}

const dirs = new Set<string>();

/** Kills every node process and deletes every folder the bench made (idempotent). */
export async function cleanupAll(): Promise<void> {
  await cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    void cleanupAll().finally(() => process.exit(130));
  });

/** Starts the network and waits until every API answers (a large genesis is built first). */
export async function startNetwork(spec: NetworkSpec): Promise<Network> {
  const dir = mkdtempSync(join(tmpdir(), "bench-net-"));
  dirs.add(dir);
  const net = await testnet({
    validators: spec.validators,
    out: join(dir, "net"),
    basePort: await freePortBase(spec.validators),
    fund: spec.senders.map((s) => ({
      address: formatAddress(addressFromPublicKey(s.publicKey)),
      balance: spec.senderBalance,
    })),
    ...(spec.derived && { derivedAccounts: { ...spec.derived, balance: 1000n } }),
  });
  for (const home of net.homes) {
    const file = join(home, "config.json");
    const config = JSON.parse(readFileSync(file, "utf8")) as { block: Record<string, number> };
    config.block = { ...config.block, batchDelayMs: 5, maxTxs: 5000 };
    writeFileSync(file, JSON.stringify(config, null, 2));
  }
  const attacker = spec.byzantine ? net.homes.length - 1 : -1;
  const faultsFile = join(dir, "faults.json");
  writeFileSync(faultsFile, JSON.stringify({ roles: ["flood-votes", "max-size"] }));
  // About 1 minute per 10^6 accounts on a quiet 2-core machine, all validators at once.
  const startTimeoutMs = 60_000 + (spec.derived?.count ?? 0) * 0.4;
  const children = await Promise.all(
    net.homes.map((home, i) =>
      startNode(
        { home, url: net.apiUrls[i]! },
        { startTimeoutMs, ...(i === attacker && { faultsFile }) },
      ),
    ),
  );
  return {
    chainId: net.chainId,
    urls: net.apiUrls,
    submitUrls: net.apiUrls.filter((_, i) => i !== attacker),
    children,
    dataDirs: net.homes.map((home) => paths(home).data),
  };
}

/** A graceful stop (so a node run with --cpu-prof writes its profile), then the cleanup. */
export async function stopNetwork(network: Network): Promise<void> {
  await Promise.all(
    network.children.map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once("exit", () => done());
          child.kill("SIGTERM");
        }),
    ),
  );
}

/** Peak and current resident memory of a process, in bytes (Linux /proc; null elsewhere). */
export function memoryOf(pid: number | undefined): { peak: number; now: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]) * 1024;
    return { peak: kb("VmHWM"), now: kb("VmRSS") };
  } catch {
    return null;
  }
}

/** Bytes a folder takes on disk, as `du` counts them (allocated blocks). */
export function diskBytes(path: string): number {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.blocks * 512;
  let total = st.blocks * 512;
  for (const name of readdirSync(path)) total += diskBytes(join(path, name));
  return total;
}
