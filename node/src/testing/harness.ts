/**
 * Runs real node processes for tests: a home made with `init`
 * (config/homes.ts, what `edgeledger init` calls), a free loopback port, a
 * node as a child process (nodeProcess.ts, what `edgeledger start` runs), and
 * helpers to call its API. Every process is killed in `cleanup()`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LIFELINE_ENV } from "@edgeledger/sdk/node";
import { addressFromPublicKey, formatAddress, SecretKey, toHex } from "@edgeledger/sdk/protocol";
import { genesisState, parseGenesis } from "../chain/genesis.ts";
import { paths } from "../config/config.ts";
import { init } from "../config/homes.ts";

const NODE_PROCESS = resolve(import.meta.dirname, "nodeProcess.ts");
const FAULTY_NODE = resolve(import.meta.dirname, "faultyNode.ts");

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once("error", () => done(false));
    s.listen(port, "127.0.0.1", () => s.close(() => done(true)));
  });
}

/**
 * A base port for `edgeledger testnet` (API base + i, p2p base + 100 + i)
 * whose ports are all free now. Below 32768, where Linux hands out ephemeral
 * ports for outgoing connections, so a busy machine does not take them later.
 */
export async function freePortBase(nodes: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 12000);
    const ports = Array.from({ length: nodes }, (_, i) => [base + i, base + 100 + i]).flat();
    if ((await Promise.all(ports.map(canListen))).every(Boolean)) return base;
  }
  throw new Error("no free block of ports for a test network");
}

export interface TestHome {
  home: string;
  url: string;
  funded: SecretKey;
  fundedAddress: string;
}

const homes: string[] = [];
const children = new Set<ChildProcess>();

/** A one-validator home with one funded account and fast block settings. */
export async function makeHome(
  chainId: string,
  funds: bigint,
  block: Record<string, number> = {},
): Promise<TestHome> {
  const home = mkdtempSync(join(tmpdir(), "edgeledger-"));
  homes.push(home);
  rmSync(home, { recursive: true });
  const funded = SecretKey.generate();
  const fundedAddress = formatAddress(addressFromPublicKey(funded.publicKey));
  const port = await freePort();
  init({ home, chainId, apiPort: port, fund: [{ address: fundedAddress, balance: funds }] });
  const configFile = paths(home).config;
  const config = JSON.parse(readFileSync(configFile, "utf8")) as { block: Record<string, number> };
  config.block = { ...config.block, batchDelayMs: 5, ...block };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return { home, url: `http://127.0.0.1:${port}`, funded, fundedAddress };
}

/**
 * Starts `edgeledger start --home` and resolves once its API answers.
 * `faultsFile`: run the test-only build (faultyNode.ts) instead, which
 * misbehaves as that file says (faults.ts). `startTimeoutMs` (default 20 s):
 * a first start of a large genesis builds its state before the API answers.
 */
export async function startNode(
  home: Pick<TestHome, "home" | "url">,
  options: {
    faultsFile?: string;
    startTimeoutMs?: number;
    /** Called with the process as soon as it is spawned (to kill it before it is up). */
    spawned?: (child: ChildProcess) => void;
  } = {},
): Promise<ChildProcess> {
  const env = {
    ...process.env,
    ...(process.env["NET_DEBUG"] && { EDGELEDGER_LOG_LEVEL: "debug" }),
    ...(options.faultsFile && { EDGELEDGER_FAULTS: options.faultsFile }),
    // stdin: a pipe never written to, closed by the kernel when this process goes (watchLifeline).
    [LIFELINE_ENV]: "stdin",
  };
  const script = options.faultsFile ? FAULTY_NODE : NODE_PROCESS;
  // NODE_ARGS: flags for each node process that NODE_OPTIONS refuses (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`).
  const nodeArgs = process.env["NODE_ARGS"]?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, script, home.home], {
    stdio: ["pipe", "pipe", "pipe"],
    env,
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  options.spawned?.(child);
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  // NET_DEBUG=1 keeps every node's output in the OS temp folder, for reading after a failure.
  if (process.env["NET_DEBUG"]) {
    const file = join(tmpdir(), `edgeledger-node-${child.pid}.log`);
    child.stdout?.on("data", (d) => appendFileSync(file, d));
    child.stderr?.on("data", (d) => appendFileSync(file, d));
  }
  const timeout = options.startTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`node exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    try {
      const res = await fetch(`${home.url}/v1/status`);
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  child.kill("SIGKILL");
  throw new Error(`node did not start within ${timeout / 1000} s:\n${output}`);
}

export function kill9(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once("exit", () => done());
    child.kill("SIGKILL");
  });
}

export async function cleanup(): Promise<void> {
  await Promise.all([...children].map(kill9));
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function api<T>(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}

export function post(
  url: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return api(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}
export { readKeyFile } from "../config/keyFile.ts";

/** The genesis hash of the chain in `home`, computed from its genesis.json (what an app pins). */
export function genesisHashOf(home: string): string {
  const file = paths(home).genesis;
  return toHex(genesisState(parseGenesis(JSON.parse(readFileSync(file, "utf8")), file)).hash);
}
export type { ByzantineRole } from "./faults.ts";
export { type HostilePeer, startHostilePeer } from "./hostilePeer.ts";
