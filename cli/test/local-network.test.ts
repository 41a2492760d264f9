/**
 * `edgeledger dev`, what `npm start` runs, as a real process: it writes a
 * 4-validator network, runs each validator as its own process with an edge
 * worker in front of them, and the README's dev transfer sent to node 0 is
 * final on all four; the SDK quick start works against node 0 and against
 * the edge. Ctrl-C stops every process; the next run continues the same
 * chain; a validator that dies takes the launcher down with it, loudly.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { init } from "@edgeledger/node/homes";
import { api, freePortBase, post, sleep } from "@edgeledger/node/testing";
import type { AccountJson, StatusJson, TransactionStatusJson } from "@edgeledger/sdk/api";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_EDGE_PORT_OFFSET } from "../src/dev/network.ts";

const CLI = resolve(import.meta.dirname, "../src/main.ts");
/** The address of the README's curl. */
const README_RECIPIENT = "el1kpyvt749ulrrcfytdt4j8t3tw6cukg78g48hvc";
const VALIDATORS = 4;

const dir = mkdtempSync(join(tmpdir(), "edgeledger-dev-"));
const launchers = new Set<Launcher>();

interface Launcher {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(args: string[]): Launcher {
  const child = spawn(process.execPath, [CLI, "dev", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const launcher = { child, output: () => output, exited };
  launchers.add(launcher);
  void exited.then(() => launchers.delete(launcher));
  return launcher;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms / 1000} s: ${what}`);
    await sleep(100);
  }
}

/** Resolves with the output once the banner is printed; throws with the output if it exits or takes too long. */
async function untilBanner(l: Launcher, ms = 90_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (!l.output().includes("Ctrl-C stops")) {
    if (l.child.exitCode !== null)
      throw new Error(`edgeledger dev exited (${l.child.exitCode}):\n${l.output()}`);
    if (Date.now() > deadline) throw new Error(`no banner within ${ms / 1000} s:\n${l.output()}`);
    await sleep(100);
  }
  return l.output();
}

/** Sends SIGINT as Ctrl-C would; resolves with the exit code (null if it had to be killed). */
async function interrupt(l: Launcher, ms = 30_000): Promise<number | null> {
  l.child.kill("SIGINT");
  const code = await Promise.race([l.exited, sleep(ms).then(() => "timeout" as const)]);
  if (code !== "timeout") return code;
  l.child.kill("SIGKILL");
  throw new Error(`edgeledger dev did not stop within ${ms / 1000} s:\n${l.output()}`);
}

/** `npm run quickstart` from the repository root with `env`; resolves with its output. */
function runQuickstart(env: Record<string, string>): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn("npm", ["run", "--silent", "quickstart"], {
      cwd: resolve(import.meta.dirname, "../.."),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) done(output);
      else fail(new Error(`npm run quickstart exited ${code}:\n${output}`));
    });
  });
}

/** The edge worker's pid, from its log (see `edge`). */
function edgePid(home: string): number | null {
  const log = join(home, "edge.log");
  const m = existsSync(log) ? /\(pid (\d+)\)/.exec(readFileSync(log, "utf8")) : null;
  return m ? Number(m[1]) : null;
}

/** The pids the validators wrote in their logs (see `start`). */
function validatorPids(home: string): number[] {
  const pids: number[] = [];
  for (let i = 0; i < VALIDATORS; i++) {
    const log = join(home, `validator-${i}`, "node.log");
    const m = existsSync(log) ? /\(pid (\d+)\)/.exec(readFileSync(log, "utf8")) : null;
    if (m) pids.push(Number(m[1]));
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const home = join(dir, "dev");

afterAll(async () => {
  // A failed test may leave a launcher running: let it stop its validators,
  // then kill whatever is left, validators included (they are in their own
  // process groups, so killing the launcher alone would orphan them).
  for (const l of [...launchers]) await interrupt(l, 15_000).catch(() => undefined);
  for (const pid of [...validatorPids(home), edgePid(home) ?? 0])
    if (pid > 0 && alive(pid)) process.kill(pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("edgeledger dev (npm start)", () => {
  it("runs 4 validator processes and an edge worker that serve the README's transfer and the quick start; Ctrl-C stops them, the next run continues, a dead validator ends it", async () => {
    const base = await freePortBase(VALIDATORS);
    const urls = Array.from({ length: VALIDATORS }, (_, i) => `http://127.0.0.1:${base + i}`);
    const edgeUrl = `http://127.0.0.1:${base + DEV_EDGE_PORT_OFFSET}`;

    const first = launch(["--home", home, "--api-port", String(base)]);
    const banner = await untilBanner(first);
    const devAccount = JSON.parse(readFileSync(join(home, "dev_account.json"), "utf8")) as {
      address: string;
    };
    expect(banner).toContain(`created the dev network in ${home}`);
    for (const url of urls) expect(banner).toContain(url);
    expect(banner).toContain(devAccount.address);
    expect(banner).toContain(`${urls[0]}/v1/dev/transfer`);
    expect(banner).toContain("validator-3/node.log");
    expect(banner).toMatch(new RegExp(`edge\\s+${edgeUrl}\\s+log: edge\\.log`));
    // The explorer URL it prints is served by the edge, anchored at the dev chain's genesis.
    expect(banner).toMatch(new RegExp(`explorer\\s+${edgeUrl}/explorer/\\s`));
    const explorerPage = await fetch(`${edgeUrl}/explorer/`);
    expect(explorerPage.status).toBe(200);
    expect(await explorerPage.text()).toContain('"chainId":"edgeledger-dev"');
    // Each validator is its own process.
    const pids = validatorPids(home);
    expect(new Set(pids).size).toBe(VALIDATORS);
    expect(pids).not.toContain(first.child.pid);

    const sent = await post(`${urls[0]}/v1/dev/transfer`, { to: README_RECIPIENT, amount: "25" });
    expect(sent.status).toBe(202);
    const hash = sent.body["hash"] as string;
    const committedEverywhere = () =>
      Promise.all(
        urls.map((url) =>
          until(`${hash} committed at ${url}`, 30_000, async () => {
            const s = await api<TransactionStatusJson>(`${url}/v1/transactions/${hash}`);
            return s.body.status === "committed" ? s.body : undefined;
          }),
        ),
      );
    const receipts = await committedEverywhere();
    expect(new Set(receipts.map((r) => JSON.stringify(r.receipt))).size).toBe(1);
    const recipient = await api<AccountJson>(`${urls[2]}/v1/accounts/${README_RECIPIENT}`);
    expect(recipient.body.account).toEqual({ balance: "25", nonce: 0 });
    const before = (await api<StatusJson>(`${urls[0]}/v1/status`)).body;
    expect(before.chainId).toBe("edgeledger-dev");

    // The SDK quick start, exactly as the banner prints it: a verified transfer and balance.
    const line = banner.split("\n").find((l) => l.trim().endsWith("npm run quickstart"));
    expect(line).toContain(`GENESIS_HASH=${before.genesisHash}`);
    const env = Object.fromEntries(
      [...line!.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!] as const),
    );
    const quick = await runQuickstart(env);
    expect(quick).toMatch(new RegExp(`${README_RECIPIENT} holds 50 at height \\d+ \\(verified\\)`));

    // The same quick start through the edge worker, as the banner prints it.
    const viaEdge = banner
      .split("\n")
      .find(
        (l) => l.includes(`EDGELEDGER_URL=${edgeUrl}`) && l.trim().endsWith("npm run quickstart"),
      );
    expect(viaEdge).toContain(`GENESIS_HASH=${before.genesisHash}`);
    const edgeEnv = Object.fromEntries(
      [...viaEdge!.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!] as const),
    );
    const quickViaEdge = await runQuickstart(edgeEnv);
    expect(quickViaEdge).toMatch(
      new RegExp(`${README_RECIPIENT} holds 75 at height \\d+ \\(verified\\)`),
    );
    const edgeStatus = (await api<StatusJson>(`${edgeUrl}/v1/status`)).body;
    expect(edgeStatus.genesisHash).toBe(before.genesisHash);

    expect(await interrupt(first)).toBe(0);
    expect(first.output()).toContain("stopped every validator and the edge worker");
    for (const url of [...urls, edgeUrl]) await expect(fetch(`${url}/v1/status`)).rejects.toThrow();
    expect(pids.filter(alive)).toEqual([]);
    for (let i = 0; i < VALIDATORS; i++) {
      expect(readFileSync(join(home, `validator-${i}`, "node.log"), "utf8")).toMatch(/stopped/);
    }

    // The next run, without the options it was created with, continues that chain.
    const second = launch(["--home", home]);
    expect(await untilBanner(second)).toContain(`continuing the dev network in ${home}`);
    const after = (await api<StatusJson>(`${urls[1]}/v1/status`)).body;
    expect(after.genesisHash).toBe(before.genesisHash);
    expect(after.height).toBeGreaterThanOrEqual(before.height);
    await committedEverywhere();
    // And it still finalizes: the dev account's next transfer lands on every validator.
    const again = await post(`${urls[0]}/v1/dev/transfer`, { to: README_RECIPIENT, amount: "5" });
    expect(again.status).toBe(202);
    await until("the second transfer on every validator", 30_000, async () => {
      const balances = await Promise.all(
        urls.map(
          async (url) =>
            (await api<AccountJson>(`${url}/v1/accounts/${README_RECIPIENT}`)).body.account
              ?.balance,
        ),
      );
      return balances.every((b) => b === "80") ? true : undefined;
    });

    // A validator that dies is reported with its last output, and the rest are stopped.
    const victim = validatorPids(home)[2]!;
    process.kill(victim, "SIGKILL");
    const code = await Promise.race([second.exited, sleep(30_000).then(() => "timeout")]);
    expect(code, second.output()).toBe(1);
    expect(second.output()).toContain("validator-2 exited on its own (signal SIGKILL)");
    expect(second.output()).toContain("validator-2/node.log");
    for (const url of [...urls, edgeUrl]) await expect(fetch(`${url}/v1/status`)).rejects.toThrow();
    expect(validatorPids(home).filter(alive)).toEqual([]);
  }, 240_000);

  it("refuses a home with the old one-validator dev chain, saying what to do", async () => {
    const old = join(dir, "old");
    init({ home: old, chainId: "edgeledger-dev" });
    const l = launch(["--home", old]);
    expect(await l.exited).toBe(1);
    expect(l.output()).toContain("CONFIG_INVALID");
    expect(l.output()).toContain("one-validator dev chain");
    expect(l.output()).toContain("--home <another folder>");
  });
});
