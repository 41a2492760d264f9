/**
 * A test network: validators (and optionally full nodes) written by the
 * CLI's own `testnet`, each running as a real `edgeledger start` process on
 * 127.0.0.1. Scenarios kill, restart, partition and corrupt nodes through
 * it; it remembers every transaction submitted so the invariant checker can
 * hold the network to what it acknowledged.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync as readProc, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestnetNode, testnet } from "@edgeledger/node/homes";
import type { ByzantineRole } from "@edgeledger/node/testing";
import {
  api,
  cleanup,
  freePortBase,
  kill9,
  post,
  readKeyFile,
  sleep,
  startNode,
} from "@edgeledger/node/testing";
import type { StatusJson } from "@edgeledger/sdk/api";
import {
  addressFromPublicKey,
  encodeSignedTransaction,
  formatAddress,
  localSigner,
  SecretKey,
  signTransaction,
  toHex,
} from "@edgeledger/sdk/protocol";
import { checkInvariants } from "./invariants.ts";

export interface NetworkOptions {
  validators?: number;
  fullNodes?: number;
  /** Nodes (by index) not started with the others; start them with `start(i)`. */
  startLater?: number[];
  funds?: bigint;
  /** Per node index: faults to inject from the start (see node/src/testing/faults.ts). */
  faults?: Record<number, Faults>;
  /** Per node index: config.json sections to set before it starts (e.g. `{ pruning: … }`). */
  config?: Record<number, Record<string, unknown>>;
  /** Protocol-version activations written into every node's genesis.json (the same for all). */
  upgrades?: { height: number; version: number }[];
}

/** What node/src/testing/faults.ts reads from the file named by EDGELEDGER_FAULTS. */
export interface Faults {
  /** libp2p peer ids this node must not be connected to (both directions). */
  isolate?: string[];
  /** Byzantine: sign and send a conflicting nil prevote next to every block prevote. */
  equivocate?: boolean;
  /** Byzantine roles (node/src/testing/faults.ts, BYZANTINE_ROLES). */
  roles?: ByzantineRole[];
}

/** What a stretch of a scenario measured on the honest nodes. */
export interface Progress {
  readonly blocks: number;
  readonly seconds: number;
  /** Blocks per second. */
  readonly rate: number;
  /** Peak resident memory of each node process so far (MiB), by node index. */
  readonly peakRssMiB: Record<number, number>;
}

export interface NetNode extends TestnetNode {
  readonly index: number;
  process: ChildProcess | null;
  /** The file this node re-reads its faults from. */
  readonly faultsFile: string;
}

export class TestNetwork {
  readonly nodes: NetNode[];
  /**
   * A full node kept back until the invariants are checked: it then syncs
   * the whole chain from genesis, verifying every certificate, signature and
   * state root, and must end at the same head (validity).
   */
  readonly auditor: NetNode;
  readonly chainId: string;
  readonly funded: SecretKey;
  readonly fundedAddress: string;
  /** Every transaction a node accepted (202), by hash. */
  readonly submitted = new Set<string>();
  /** Processes that exited without the test killing them. */
  readonly crashed: string[] = [];
  readonly #dir: string;
  #nonce = 0;
  #stopping = false;

  private constructor(dir: string, nodes: NetNode[], chainId: string, funded: SecretKey) {
    this.#dir = dir;
    this.auditor = nodes.at(-1)!;
    this.nodes = nodes.slice(0, -1);
    this.chainId = chainId;
    this.funded = funded;
    this.fundedAddress = formatAddress(addressFromPublicKey(funded.publicKey));
  }

  static async start(opts: NetworkOptions = {}): Promise<TestNetwork> {
    const validators = opts.validators ?? 4;
    const fullNodes = opts.fullNodes ?? 0;
    const dir = mkdtempSync(join(tmpdir(), "edgeledger-net-"));
    const funded = SecretKey.generate();
    const written = await testnet({
      validators,
      fullNodes: fullNodes + 1, // the last one is the auditor
      out: join(dir, "net"),
      basePort: await freePortBase(validators + fullNodes + 1),
      fund: [
        {
          address: formatAddress(addressFromPublicKey(funded.publicKey)),
          balance: opts.funds ?? 1_000_000n,
        },
      ],
    });
    if (opts.upgrades)
      for (const n of written.nodes) {
        const file = join(n.home, "genesis.json");
        const genesis = JSON.parse(readProc(file, "utf8")) as Record<string, unknown>;
        writeFileSync(file, JSON.stringify({ ...genesis, upgrades: opts.upgrades }, null, 2));
      }
    const nodes = written.nodes.map((n, index) => ({
      ...n,
      index,
      process: null,
      faultsFile: join(dir, `faults-${index}.json`),
    }));
    const net = new TestNetwork(dir, nodes, written.chainId, funded);
    for (const [i, f] of Object.entries(opts.faults ?? {})) net.setFaults(Number(i), f);
    for (const [i, sections] of Object.entries(opts.config ?? {})) {
      const file = join(net.nodes[Number(i)]!.home, "config.json");
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readProc(file, "utf8")), ...sections }));
    }
    const later = new Set(opts.startLater ?? []);
    await Promise.all(net.nodes.filter((n) => !later.has(n.index)).map((n) => net.start(n.index)));
    return net;
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.apiUrl);
  }

  running(): NetNode[] {
    return this.nodes.filter((n) => n.process !== null);
  }

  /**
   * Starts node i and waits until it serves /v1/status (`timeoutMs`, default
   * the harness's 20 s: a large state sync join takes longer). The process
   * is node.process from its spawn, so kill(i) also ends a start under way.
   */
  async start(i: number, options: { timeoutMs?: number } = {}): Promise<void> {
    const node = i === this.auditor.index ? this.auditor : this.nodes[i]!;
    const child = await startNode(
      { home: node.home, url: node.apiUrl },
      {
        faultsFile: node.faultsFile,
        ...(options.timeoutMs !== undefined && { startTimeoutMs: options.timeoutMs }),
        spawned: (c) => {
          node.process = c;
        },
      },
    ).catch((err: unknown) => {
      node.process = null;
      throw err;
    });
    node.process = child;
    child.once("exit", (code, signal) => {
      if (node.process === child) node.process = null;
      // Only SIGKILL (kill9) and a shutdown are ours; anything else is a node dying on its own.
      if (!this.#stopping && signal !== "SIGKILL" && !this.#shutdowns.has(child))
        this.crashed.push(`node ${i} exited (code ${code}, signal ${signal})`);
    });
  }

  async kill(i: number): Promise<void> {
    const node = i === this.auditor.index ? this.auditor : this.nodes[i]!;
    const child = node.process;
    node.process = null;
    if (child) await kill9(child);
  }

  /**
   * Stops node i as an operator does (SIGTERM: the node stops cleanly and
   * exits); fails if it has not exited within `ms`.
   */
  async shutdown(i: number, ms = 30_000): Promise<void> {
    const node = i === this.auditor.index ? this.auditor : this.nodes[i]!;
    const child = node.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.#shutdowns.add(child);
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`node ${i} did not exit within ${ms} ms`)), ms);
    });
    try {
      await Promise.race([exited, late]);
    } finally {
      clearTimeout(timer);
    }
    node.process = null;
  }

  readonly #shutdowns = new WeakSet<ChildProcess>();

  async restart(i: number): Promise<void> {
    await this.kill(i);
    await this.start(i);
  }

  /** Rewrites node i's faults file; the node applies it within a fraction of a second. */
  setFaults(i: number, faults: Faults): void {
    writeFileSync(this.nodes[i]!.faultsFile, JSON.stringify(faults));
  }

  /** Splits the network into groups that cannot reach each other (each node isolates the others' peers). */
  partition(...groups: number[][]): void {
    for (const group of groups) {
      const others = this.nodes.filter((n) => !group.includes(n.index)).map((n) => n.peerId);
      for (const i of group) this.setFaults(i, { isolate: others });
    }
  }

  heal(): void {
    for (const n of this.nodes) this.setFaults(n.index, {});
  }

  async status(i: number): Promise<StatusJson | null> {
    const node = i === this.auditor.index ? this.auditor : this.nodes[i]!;
    if (!node.process) return null;
    const r = await api<StatusJson>(`${node.apiUrl}/v1/status`).catch(() => null);
    return r?.status === 200 ? r.body : null;
  }

  /** Node i's height, or -1 when it is down or not answering. */
  async height(i: number): Promise<number> {
    return (await this.status(i))?.height ?? -1;
  }

  async heights(indexes = this.nodes.map((n) => n.index)): Promise<number[]> {
    return Promise.all(indexes.map((i) => this.height(i)));
  }

  /**
   * Signs a transfer from the funded account with the next nonce and submits
   * it to node `via`. Resolves with its hash once the node accepted it.
   */
  async transfer(via: number, amount = 1n): Promise<string> {
    const res = await this.submitTransfer(via, amount);
    if (res.status !== 202)
      throw new Error(`node ${via} refused a transfer: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body["hash"] as string;
  }

  /**
   * Like transfer, to `to` (default: a fresh address), but answers with the
   * node's reply whatever it is; the nonce moves on only when it accepted.
   */
  async submitTransfer(
    via: number,
    amount = 1n,
    to: Uint8Array = addressFromPublicKey(SecretKey.generate().publicKey),
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const stx = await signTransaction(
      {
        chainId: this.chainId,
        from: this.funded.publicKey,
        nonce: this.#nonce,
        expiresAt: Date.now() + 30 * 60_000,
        body: { kind: "transfer", to, amount },
      },
      localSigner(this.funded),
    );
    const res = await post(`${this.nodes[via]!.apiUrl}/v1/transactions`, {
      tx: toHex(encodeSignedTransaction(stx)),
    });
    if (res.status === 202) {
      this.#nonce++;
      this.submitted.add(res.body["hash"] as string);
    }
    return res;
  }

  /** Node i's own key (validator_key.json in its home). */
  keyOf(i: number): SecretKey {
    return readKeyFile(join(this.nodes[i]!.home, "validator_key.json"));
  }

  /**
   * Validator `voter` votes, with a signed transaction sent to its own node,
   * to give node `subject`'s key `power` (0 removes it). Resolves with the hash.
   */
  async voteValidator(voter: number, subject: number, power: bigint): Promise<string> {
    const key = this.keyOf(voter);
    const nonce = this.#voterNonces.get(voter) ?? 0;
    const stx = await signTransaction(
      {
        chainId: this.chainId,
        from: key.publicKey,
        nonce,
        expiresAt: Date.now() + 30 * 60_000,
        body: { kind: "validator-vote", validator: this.keyOf(subject).publicKey, power },
      },
      localSigner(key),
    );
    const res = await post(`${this.nodes[voter]!.apiUrl}/v1/transactions`, {
      tx: toHex(encodeSignedTransaction(stx)),
    });
    if (res.status !== 202)
      throw new Error(`node ${voter} refused its vote: ${res.status} ${JSON.stringify(res.body)}`);
    this.#voterNonces.set(voter, nonce + 1);
    const hash = res.body["hash"] as string;
    this.submitted.add(hash);
    return hash;
  }

  readonly #voterNonces = new Map<number, number>();

  /** Polls `check` every 100 ms until it holds; fails after `ms` naming `what`. */
  async waitUntil(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
    const t0 = Date.now();
    while (!(await check())) {
      if (Date.now() - t0 > ms) {
        const heights = await this.heights();
        throw new Error(
          `timed out after ${ms} ms waiting: ${what} (heights ${heights.join(", ")})`,
        );
      }
      await sleep(100);
    }
    if (process.env["NET_DEBUG"]) console.log(`${what}: ${Date.now() - t0} ms`);
  }

  /** Waits until every node in `indexes` is at `height` or above. */
  async waitForHeight(height: number, indexes = this.nodes.map((n) => n.index), ms = 30_000) {
    await this.waitUntil(
      `nodes ${indexes.join(",")} at height ${height}`,
      async () => (await this.heights(indexes)).every((h) => h >= height),
      ms,
    );
  }

  /** Waits until node `on` reports every hash committed. */
  async waitCommitted(hashes: readonly string[], on: number, ms = 30_000): Promise<void> {
    const url = this.nodes[on]!.apiUrl;
    await this.waitUntil(
      `${hashes.length} transactions committed on node ${on}`,
      async () => {
        for (const hash of hashes) {
          const r = await api<{ status: string }>(`${url}/v1/transactions/${hash}`).catch(
            () => null,
          );
          if (r?.body.status !== "committed") return false;
        }
        return true;
      },
      ms,
    );
  }

  /** The invariant checks (invariants.ts) over every node that runs now. */
  check(): Promise<void> {
    return checkInvariants(this);
  }

  /**
   * Liveness under attack: the `honest` nodes commit `blocks` new blocks
   * within `ms` while `load` keeps transactions coming (blocks are made only
   * when there is something to include). Resolves with the rate and the
   * nodes' peak memory; fails naming the heights if it does not happen.
   */
  async progress(
    honest: readonly number[],
    blocks: number,
    ms: number,
    load: () => Promise<unknown> = () => this.transfer(honest[0]!),
  ): Promise<Progress> {
    const start = Math.min(...(await this.heights([...honest])));
    const t0 = Date.now();
    let done = false;
    const feeding = (async () => {
      while (!done) {
        await load().catch(() => undefined);
        await sleep(100);
      }
    })();
    try {
      await this.waitForHeight(start + blocks, [...honest], ms);
    } finally {
      done = true;
      await feeding;
    }
    const seconds = (Date.now() - t0) / 1000;
    const peakRssMiB: Record<number, number> = {};
    for (const n of this.running()) {
      const rss = peakRss(n.process?.pid);
      if (rss !== null) peakRssMiB[n.index] = rss;
    }
    return { blocks, seconds, rate: blocks / seconds, peakRssMiB };
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.nodes, this.auditor].map((n) => this.kill(n.index)));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/**
 * Runs one scenario on a fresh network: the invariants are checked after it
 * (so no scenario can forget them), and the processes and files are gone
 * afterwards whatever happened.
 */
export async function withNetwork(
  opts: NetworkOptions,
  scenario: (net: TestNetwork) => Promise<void>,
): Promise<void> {
  const net = await TestNetwork.start(opts);
  try {
    await scenario(net);
    await net.check();
  } finally {
    await net.stop();
    await cleanup();
  }
}

/** A process's peak resident set (VmHWM) in MiB, or null where /proc does not tell. */
function peakRss(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const status = readProc(`/proc/${pid}/status`, "utf8");
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}
