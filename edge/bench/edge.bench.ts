/**
 * Edge benchmark (issue 6), on one machine:
 *   - cached reads per second served by the edge against a bare Hono
 *     handler that sends the same bodies, both on Node (@hono/node-server)
 *     in their own process under the same load (target: ratio ≥ 0.8);
 *   - latency p50/p99 of a cache hit, a cache miss (upstream fetch and
 *     verification) and the same read straight from the node.
 * The network is a one-validator dev chain run by the node's CLI as a
 * process (`edgeledger dev`; the edge imports nothing of the node's).
 *
 * Run: npm run bench (or `node bench/edge.bench.ts` in edge/); BENCH_QUICK=1
 * for a short smoke run. Writes bench/out/edge.json.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import os, { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { StatusJson } from "@edgeledger/sdk/api";
import { addressFromPublicKey, formatAddress, SecretKey } from "@edgeledger/sdk/protocol";

const QUICK = process.env["BENCH_QUICK"] === "1";
/** Seconds of load per measured run, and rounds (bare, edge alternating; best of each kept). */
const LOAD_SECONDS = QUICK ? 1.5 : 4;
const ROUNDS = QUICK ? 1 : 3;
/** Connections kept busy by the load generator. */
const CONNECTIONS = 32;
const LATENCY_SAMPLES = QUICK ? 200 : 1000;
const MISS_SAMPLES = QUICK ? 100 : 400;

const CLI = resolve(import.meta.dirname, "../../cli/src/main.ts");
const SERVER = resolve(import.meta.dirname, "server.ts");
const OUT = resolve(import.meta.dirname, "out/edge.json");

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Spawns `node args…` and resolves once its output matches `ready` (within `ms`). */
function spawnUntil(
  args: string[],
  ready: RegExp,
  ms: number,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let output = "";
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`not ready within ${ms} ms:\n${output}`)), ms);
    const onData = (d: Buffer) => {
      output += d;
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        done({ child, match });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d: Buffer) => (output += d));
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`exited (${code}) before ready:\n${output}`));
    });
  });
}

function stop(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(kill);
      done();
    });
    child.kill(signal);
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once("error", () => done(false));
    s.listen(port, "127.0.0.1", () => s.close(() => done(true)));
  });
}

/** A first API port for a one-validator dev chain: it, +99 (its edge) and +100 (p2p) free. */
async function freeDevPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * 12000);
    if ((await Promise.all([base, base + 99, base + 100].map(canListen))).every(Boolean))
      return base;
  }
  throw new Error("no free ports for the dev chain");
}

// node:http with keep-alive: fetch (undici) costs the client several times more per request.
const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const target = new URL(url);
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, agent },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => done({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", fail);
    req.end();
  });
}

async function getJson<T>(url: string): Promise<T> {
  const res = await get(url);
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as T;
}

interface Throughput {
  /** Requests per second as measured, load generator included. */
  readonly perSecond: number;
  /** Requests per second of the server's own CPU time: what one core of it can serve. */
  readonly perCpuSecond: number;
}

const serverCpuMicros = async (base: string) => Number((await get(`${base}/__cpu`)).body);

/**
 * Requests per second over `seconds`, `CONNECTIONS` at a time, cycling
 * through `paths`; and per second of the server's CPU, which is what
 * compares two servers fairly when the load generator shares the machine
 * (on two cores it is often the bottleneck itself).
 */
async function throughput(
  base: string,
  paths: readonly string[],
  seconds: number,
): Promise<Throughput> {
  let done = 0;
  let failed = 0;
  const cpu0 = await serverCpuMicros(base);
  const end = performance.now() + seconds * 1000;
  const worker = async (w: number) => {
    for (let i = w; performance.now() < end; i += CONNECTIONS) {
      const res = await get(base + paths[i % paths.length]!);
      if (res.status === 200) done++;
      else failed++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = ((await serverCpuMicros(base)) - cpu0) / 1e6;
  if (failed > 0) throw new Error(`${failed} requests failed during the load`);
  return { perSecond: done / elapsed, perCpuSecond: done / cpu };
}

/** Latencies (ms) of `paths` requested one at a time. */
async function latencies(base: string, paths: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  for (const path of paths) {
    const t0 = performance.now();
    const res = await get(base + path);
    out.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.body}`);
  }
  return out.sort((a, b) => a - b);
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const summary = (sorted: readonly number[]) => ({
  p50ms: round(percentile(sorted, 50), 3),
  p99ms: round(percentile(sorted, 99), 3),
});
const randomAddress = () => formatAddress(addressFromPublicKey(SecretKey.generate().publicKey));

async function main(): Promise<object> {
  const home = mkdtempSync(join(tmpdir(), "edge-bench-"));
  const apiPort = await freeDevPort();
  const nodeUrl = `http://127.0.0.1:${apiPort}`;
  log(`starting a one-validator dev chain on ${nodeUrl}…`);
  const dev = await spawnUntil(
    [CLI, "dev", "--home", home, "--validators", "1", "--api-port", String(apiPort)],
    /Ctrl-C stops/,
    90_000,
  );
  try {
    // A few blocks, each with a transaction, so the reads are of real blocks.
    for (let i = 0; i < 3; i++) {
      const sent = await new Promise<string>((done, fail) => {
        const body = JSON.stringify({ to: randomAddress(), amount: "5" });
        const req = request(
          `${nodeUrl}/v1/dev/transfer`,
          { method: "POST", headers: { "content-type": "application/json" } },
          (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => done((JSON.parse(text) as { hash: string }).hash));
          },
        );
        req.on("error", fail);
        req.end(body);
      });
      for (let t = 0; ; t++) {
        const s = await get(`${nodeUrl}/v1/transactions/${sent}`);
        if (s.status === 200 && (JSON.parse(s.body) as { status: string }).status === "committed")
          break;
        if (t > 300) throw new Error("the dev transfer did not commit");
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const status = await getJson<StatusJson>(`${nodeUrl}/v1/status`);
    const height = status.height;
    log(`chain ${status.chainId} at height ${height}`);

    const edgeProc = await spawnUntil(
      [SERVER, "edge", nodeUrl, status.chainId, status.genesisHash],
      /listening (\S+)/,
      30_000,
    );
    const edgeUrl = edgeProc.match[1]!;
    const account = randomAddress();
    const paths = { block: `/v1/blocks/${height}`, account: `/v1/accounts/${account}` };
    // The bodies the edge serves, for the bare server to send as they are.
    const bodies: Record<string, string> = {};
    for (const [, path] of Object.entries(paths)) bodies[path] = (await get(edgeUrl + path)).body;
    const bodiesFile = join(home, "bodies.json");
    writeFileSync(bodiesFile, JSON.stringify(bodies));
    const bareProc = await spawnUntil([SERVER, "bare", bodiesFile], /listening (\S+)/, 30_000);
    const bareUrl = bareProc.match[1]!;

    // Throughput: bare and edge alternate, each under the same load; best of the rounds.
    const zero = { perSecond: 0, perCpuSecond: 0 };
    const best = {
      bare: { block: zero, account: zero },
      edge: { block: zero, account: zero },
    };
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, base] of [
        ["bare", bareUrl],
        ["edge", edgeUrl],
      ] as const) {
        for (const kind of ["block", "account"] as const) {
          await throughput(base, [paths[kind]], 0.5); // warm up
          const t = await throughput(base, [paths[kind]], LOAD_SECONDS);
          const was = best[name][kind];
          best[name][kind] = {
            perSecond: Math.max(was.perSecond, t.perSecond),
            perCpuSecond: Math.max(was.perCpuSecond, t.perCpuSecond),
          };
          log(
            `round ${r + 1}: ${name} ${kind} ${Math.round(t.perSecond)} req/s, ${Math.round(t.perCpuSecond)} per server CPU-second`,
          );
        }
      }
    }

    // Latency, one request at a time.
    const hitPaths = Array.from({ length: LATENCY_SAMPLES }, () => paths.block);
    await latencies(edgeUrl, hitPaths.slice(0, 100));
    const hit = await latencies(edgeUrl, hitPaths);
    // Misses: a new address each time, at a final height (the header is verified
    // once; each miss is an upstream fetch, a state proof check and a render).
    const freshAccounts = (n: number) =>
      Array.from({ length: n }, () => `/v1/accounts/${randomAddress()}?height=${height}`);
    await latencies(edgeUrl, freshAccounts(20)); // warm up, on keys of their own
    const miss = await latencies(edgeUrl, freshAccounts(MISS_SAMPLES));
    await latencies(nodeUrl, freshAccounts(20));
    const direct = await latencies(nodeUrl, freshAccounts(MISS_SAMPLES));

    await Promise.all([stop(edgeProc.child), stop(bareProc.child)]);
    const ratio = {
      block: round(best.edge.block.perCpuSecond / best.bare.block.perCpuSecond),
      account: round(best.edge.account.perCpuSecond / best.bare.account.perCpuSecond),
    };
    const reads = (kind: "block" | "account") => ({
      bareHono: {
        perSecond: Math.round(best.bare[kind].perSecond),
        perServerCpuSecond: Math.round(best.bare[kind].perCpuSecond),
      },
      edge: {
        perSecond: Math.round(best.edge[kind].perSecond),
        perServerCpuSecond: Math.round(best.edge[kind].perCpuSecond),
      },
      ratio: ratio[kind],
      measuredRatio: round(best.edge[kind].perSecond / best.bare[kind].perSecond),
    });
    return {
      machine: { cpus: os.availableParallelism(), node: process.version },
      config: { connections: CONNECTIONS, loadSeconds: LOAD_SECONDS, rounds: ROUNDS, quick: QUICK },
      cachedReadsPerSecond: {
        // ratio: per second of server CPU (the capacity of a core of each);
        // measuredRatio: as measured, bounded by the load generator here.
        block: reads("block"),
        latestAccount: reads("account"),
        target: 0.8,
        meetsTarget: ratio.block >= 0.8 && ratio.account >= 0.8,
      },
      latency: {
        cacheHit: summary(hit),
        cacheMiss: summary(miss),
        directNodeRead: summary(direct),
        samples: { hit: hit.length, miss: miss.length, direct: direct.length },
      },
    };
  } finally {
    await stop(dev.child, "SIGINT");
    rmSync(home, { recursive: true, force: true });
    agent.destroy();
  }
}

interface Side {
  perSecond: number;
  perServerCpuSecond: number;
}
const result = (await main()) as {
  cachedReadsPerSecond: Record<
    string,
    { bareHono: Side; edge: Side; ratio: number; measuredRatio: number }
  >;
  latency: Record<string, { p50ms: number; p99ms: number }>;
};
mkdirSync(resolve(OUT, ".."), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
const reads = result.cachedReadsPerSecond;
const line = (label: string, r: (typeof reads)[string]) =>
  `  ${label.padEnd(16)}  edge ${String(r.edge.perServerCpuSecond).padStart(6)}  bare ${String(r.bareHono.perServerCpuSecond).padStart(6)}  ratio ${r.ratio.toFixed(2)}   (measured: edge ${r.edge.perSecond}/s, bare ${r.bareHono.perSecond}/s, ${r.measuredRatio.toFixed(2)})`;
console.log(`
edge: cached reads against a bare Hono handler (Node, same machine, ${CONNECTIONS} connections);
requests per second of server CPU, target ratio ≥ 0.8
${line("block by height", reads["block"]!)}
${line("latest account", reads["latestAccount"]!)}
latency, one request at a time (ms)     p50      p99
  cache hit                            ${String(result.latency["cacheHit"]!.p50ms).padStart(6)}  ${String(result.latency["cacheHit"]!.p99ms).padStart(7)}
  cache miss (fetch + verify)          ${String(result.latency["cacheMiss"]!.p50ms).padStart(6)}  ${String(result.latency["cacheMiss"]!.p99ms).padStart(7)}
  direct node read                     ${String(result.latency["directNodeRead"]!.p50ms).padStart(6)}  ${String(result.latency["directNodeRead"]!.p99ms).padStart(7)}
written to ${OUT}`);
