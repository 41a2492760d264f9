/**
 * Node benchmark (issue 3): one validator in its own process, many funded
 * accounts, signed transfers submitted over HTTP at increasing offered rates.
 * Reports committed tx/s, submit-to-final latency p50/p99, and the ratio of
 * committed tx/s to native Ed25519 verifies/s on one core, measured in this
 * run (target ≥ 0.8: each transaction's signature check is the one cost we
 * cannot avoid, so the node should run close to it).
 *
 * Runs `1`, `4` and `4b` (BENCH_VALIDATORS): `4b` is the 4-validator network
 * with one Byzantine validator (the test-only build, flooding far-future
 * votes and repeated catch-up replies, proposing maximum-size blocks that
 * do not execute in every round it leads; issue 11), load sent to the
 * honest three; its peak is printed as a ratio of the honest `4` run's
 * peak in the same bench run (target ≥ 0.8).
 *
 * Run: npm run bench (or `node bench/node.bench.ts` in node/); BENCH_QUICK=1
 * for a short smoke run. Writes bench/out/node.json.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlockJson, StatusJson } from "@edgeledger/sdk/api";
import {
  addressFromPublicKey,
  encodeSignedTransaction,
  formatAddress,
  SecretKey,
  toHex,
  transactionHash,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier, nativeSigner } from "@edgeledger/sdk/protocol/node";
import { testnet } from "../src/config/homes.ts";
import { api, cleanup, freePortBase, makeHome, startNode } from "../src/testing/harness.ts";

const { BENCH_QUICK, BENCH_RATES, BENCH_VALIDATORS } = process.env;
const QUICK = BENCH_QUICK === "1";
const ACCOUNTS = QUICK ? 200 : 2000;
const STEP_SECONDS = QUICK ? 1.5 : 4;
const RATES = QUICK
  ? [500, 2000]
  : (BENCH_RATES ?? "1000,2000,4000,8000,16000").split(",").map(Number);
/** Requests in flight, and most transactions per request (paced: a batch holds what is due). */
const IN_FLIGHT = 8;
const BATCH = 200;
const CHAIN = "bench-chain";
/** One block in this many is fetched to time its transactions. */
const LATENCY_SAMPLE = 4;

function nativeVerifyRate(): number {
  const key = SecretKey.generate();
  const msg = new Uint8Array(32).fill(7);
  const sig = nativeSigner(key).signSync(msg);
  const v = createNativeVerifier();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 1000) {
    if (!v.verifySync!(sig, msg, key.publicKey)) throw new Error("verify failed");
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface StepResult {
  offered: number;
  submitted: number;
  rejected: number;
  committedPerSec: number;
  p50ms: number;
  p99ms: number;
}

interface Network {
  readonly chainId: string;
  readonly urls: readonly string[];
  readonly funded: SecretKey;
  readonly fundedAddress: string;
  readonly children: readonly ChildProcess[];
  /** Where load goes: the honest validators (all of them without an attacker). */
  readonly submitUrls: readonly string[];
  /** A folder to delete afterwards, if the bench made one. */
  readonly dir?: string;
}

/** One validator (a node home), or a testnet of `validators` separate processes. */
async function startNetwork(validators: number, byzantine: boolean): Promise<Network> {
  if (validators === 1) {
    const home = await makeHome(CHAIN, 10n ** 15n, { maxTxs: 5000 });
    const child = await startNode(home);
    return {
      chainId: CHAIN,
      urls: [home.url],
      submitUrls: [home.url],
      funded: home.funded,
      fundedAddress: home.fundedAddress,
      children: [child],
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "bench-net-"));
  const funded = SecretKey.generate();
  const fundedAddress = formatAddress(addressFromPublicKey(funded.publicKey));
  const net = await testnet({
    validators,
    out: join(dir, "net"),
    basePort: await freePortBase(validators),
    fund: [{ address: fundedAddress, balance: 10n ** 15n }],
  });
  for (const home of net.homes) {
    const file = join(home, "config.json");
    const config = JSON.parse(readFileSync(file, "utf8")) as { block: Record<string, number> };
    config.block = { ...config.block, batchDelayMs: 5, maxTxs: 5000 };
    writeFileSync(file, JSON.stringify(config, null, 2));
  }
  // The last validator plays the attacker when asked (node/src/testing/faults.ts).
  const attacker = byzantine ? net.homes.length - 1 : -1;
  const faultsFile = join(dir, "faults.json");
  writeFileSync(faultsFile, JSON.stringify({ roles: ["flood-votes", "max-size"] }));
  const children = await Promise.all(
    net.homes.map((home, i) =>
      startNode({ home, url: net.apiUrls[i]! }, i === attacker ? { faultsFile } : {}),
    ),
  );
  return {
    chainId: net.chainId,
    urls: net.apiUrls,
    submitUrls: net.apiUrls.filter((_, i) => i !== attacker),
    funded,
    fundedAddress,
    children,
    dir,
  };
}

async function main(validators: number, byzantine = false): Promise<Run> {
  const verifyRate = nativeVerifyRate();
  const cores = os.availableParallelism();
  // The bound: each validator verifies every transaction once; with one
  // validator that is one core's rate, with n they share all cores.
  const bound = validators === 1 ? verifyRate : (verifyRate * cores) / validators;
  const targetRatio = validators === 1 ? 0.8 : 0.6;
  process.stderr.write(
    `native verify, 1 core: ${Math.round(verifyRate)}/s; bound for ${validators} validator(s): ${Math.round(bound)}/s\n`,
  );

  // Many funded accounts: genesis funds one, and the bench key spreads it in the first blocks.
  const network = await startNetwork(validators, byzantine);
  const home = {
    url: network.urls[0]!,
    funded: network.funded,
    fundedAddress: network.fundedAddress,
  };
  const senders = Array.from({ length: ACCOUNTS }, () => SecretKey.generate());
  const nonces = new Map<SecretKey, number>(senders.map((s) => [s, 0]));
  const funder = nativeSigner(home.funded);
  let funderNonce = 0;
  const sign = (
    key: SecretKey,
    signer: ReturnType<typeof nativeSigner>,
    nonce: number,
    to: Uint8Array,
    amount: bigint,
  ) => {
    const tx = {
      chainId: network.chainId,
      from: key.publicKey,
      nonce,
      expiresAt: Date.now() + 30 * 60_000,
      body: { kind: "transfer" as const, to, amount },
    };
    const hash = transactionHash(tx);
    return {
      hash: toHex(hash),
      hex: toHex(encodeSignedTransaction({ tx, signature: signer.signSync(hash) })),
    };
  };
  // node:http with keep-alive: fetch (undici) costs the client several times more per request.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const postJson = (
    url: string,
    path: string,
    body: string,
  ): Promise<{ status: number; text: string }> =>
    new Promise((done, fail) => {
      const target = new URL(url);
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path,
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (text += d));
          res.on("end", () => done({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", fail);
      req.end(body);
    });
  /** Submits a batch to node `via` (round-robin across validators); returns how many were admitted. */
  let via = 0;
  const submit = async (hexes: readonly string[]): Promise<number> => {
    const url = network.submitUrls[via++ % network.submitUrls.length]!;
    const res = await postJson(url, "/v1/transactions/batch", JSON.stringify({ txs: hexes }));
    if (res.status !== 200) return 0;
    const { results } = JSON.parse(res.text) as { results: { hash?: string }[] };
    return results.filter((r) => r.hash).length;
  };
  process.stderr.write(`funding ${ACCOUNTS} accounts\n`);
  const funderNonceCommitted = async () =>
    (
      await api<{ account: { nonce: number } | null }>(
        `${home.url}/v1/accounts/${home.fundedAddress}`,
      )
    ).body.account?.nonce ?? 0;
  // In rounds that stay inside the mempool's per-sender limit, each committed before the next.
  for (let i = 0; i < senders.length; i += 200) {
    const batch = senders
      .slice(i, i + 200)
      .map((s) =>
        sign(home.funded, funder, funderNonce++, addressFromPublicKey(s.publicKey), 10n ** 9n),
      );
    if ((await submit(batch.map((t) => t.hex))) !== batch.length)
      throw new Error("funding transfer refused");
    while ((await funderNonceCommitted()) < funderNonce)
      await new Promise((r) => setTimeout(r, 20));
  }

  // Commit times: follow the heads stream. Every head counts its txCount; every
  // LATENCY_SAMPLE-th block is fetched for its tx hashes (fetching all would
  // load the node with the bench's own reads).
  const submittedAt = new Map<string, number>();
  const latencies: number[] = [];
  let committedCount = 0;
  const heads = new AbortController();
  const follow = (async () => {
    const res = await fetch(`${home.url}/v1/heads`, { signal: heads.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      for (let at = buf.indexOf("\n\n"); at >= 0; at = buf.indexOf("\n\n")) {
        const frame = buf.slice(0, at);
        buf = buf.slice(at + 2);
        const data = frame.split("\n").find((l) => l.startsWith("data: "));
        if (!data) continue;
        const now = performance.now();
        const head = JSON.parse(data.slice(6)) as { header: { height: number; txCount: number } };
        committedCount += head.header.txCount;
        if (head.header.height % LATENCY_SAMPLE !== 0) continue;
        void api<BlockJson>(`${home.url}/v1/blocks/${head.header.height}`).then(({ body }) => {
          for (const tx of body.txs) {
            const t = submittedAt.get(tx.hash);
            if (t !== undefined) latencies.push(now - t);
          }
        });
      }
    }
  })().catch(() => undefined);

  const signers = new Map<SecretKey, ReturnType<typeof nativeSigner>>();
  const signerOf = (key: SecretKey) => {
    let s = signers.get(key);
    if (!s) {
      s = nativeSigner(key);
      signers.set(key, s);
    }
    return s;
  };
  const results: StepResult[] = [];
  const receivers = Array.from({ length: 50 }, () =>
    addressFromPublicKey(SecretKey.generate().publicKey),
  );
  for (const rate of RATES) {
    latencies.length = 0;
    submittedAt.clear();
    committedCount = 0;
    let submitted = 0;
    let rejected = 0;
    const total = Math.round(rate * STEP_SECONDS);
    // Pre-sign the step's transactions so signing does not slow the offered rate.
    const txs = Array.from({ length: total }, (_, i) => {
      const key = senders[i % senders.length]!;
      const nonce = nonces.get(key)!;
      nonces.set(key, nonce + 1);
      return sign(key, signerOf(key), nonce, receivers[i % receivers.length]!, 1n);
    });
    const start = performance.now();
    let next = 0;
    let inFlight = 0;
    await new Promise<void>((done) => {
      const pump = () => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
        while (next < due && inFlight < IN_FLIGHT) {
          const batch = txs.slice(next, Math.min(due, next + BATCH));
          next += batch.length;
          inFlight++;
          const at = performance.now();
          for (const t of batch) submittedAt.set(t.hash, at);
          void submit(batch.map((t) => t.hex))
            .then(
              (admitted) => {
                submitted += admitted;
                rejected += batch.length - admitted;
              },
              () => (rejected += batch.length),
            )
            .finally(() => {
              inFlight--;
              if (next >= total && inFlight === 0) done();
            });
        }
        if (next < total) setTimeout(pump, 1);
      };
      pump();
    });
    // Let the last blocks commit (bounded).
    const drainUntil = performance.now() + 10_000;
    while (committedCount < submitted && performance.now() < drainUntil)
      await new Promise((r) => setTimeout(r, 50));
    const seconds = (performance.now() - start) / 1000;
    const sorted = [...latencies].sort((a, b) => a - b);
    const r: StepResult = {
      offered: rate,
      submitted,
      rejected,
      committedPerSec: committedCount / seconds,
      p50ms: percentile(sorted, 50),
      p99ms: percentile(sorted, 99),
    };
    results.push(r);
    process.stderr.write(
      `offered ${rate}/s: committed ${Math.round(r.committedPerSec)}/s, p50 ${r.p50ms.toFixed(0)} ms, p99 ${r.p99ms.toFixed(0)} ms, rejected ${rejected}\n`,
    );
    if (committedCount < submitted * 0.9) break; // past saturation
  }
  heads.abort();
  await follow;
  const status = (await api<StatusJson>(`${home.url}/v1/status`)).body;
  // A graceful stop, so a node run with --cpu-prof writes its profile.
  await Promise.all(
    network.children.map(
      (child) =>
        new Promise<void>((done) => {
          child.once("exit", () => done());
          child.kill("SIGTERM");
        }),
    ),
  );
  await cleanup();
  if (network.dir) rmSync(network.dir, { recursive: true, force: true });

  const peak = Math.max(...results.map((r) => r.committedPerSec));
  console.log(
    `\nnode bench${QUICK ? " (BENCH_QUICK)" : ""}: ${validators} validator(s)${byzantine ? ", one of them Byzantine (flood-votes, max-size)," : ""} as separate processes, ${ACCOUNTS} accounts, node ${process.version}, ${cores} cpus; final height ${status.height}`,
  );
  console.log(
    validators === 1
      ? `reference: native Ed25519 verify, 1 core = ${Math.round(verifyRate)}/s; target ratio ≥ ${targetRatio}\n`
      : `reference: native verify over all ${cores} cores ÷ ${validators} validators = ${Math.round(bound)}/s; target ratio ≥ ${targetRatio}\n`,
  );
  console.log("offered/s  submitted  rejected  committed/s  ratio   p50 ms  p99 ms");
  for (const r of results) {
    console.log(
      `${String(r.offered).padStart(9)}  ${String(r.submitted).padStart(9)}  ${String(r.rejected).padStart(8)}  ${r.committedPerSec.toFixed(0).padStart(11)}  ${(r.committedPerSec / bound).toFixed(3).padStart(5)}  ${r.p50ms.toFixed(0).padStart(6)}  ${r.p99ms.toFixed(0).padStart(6)}`,
    );
  }
  console.log(
    `\npeak committed ${peak.toFixed(0)}/s = ${(peak / bound).toFixed(3)} of the bound (target ${targetRatio})`,
  );
  return {
    validators,
    byzantine,
    verifyRate,
    bound,
    accounts: ACCOUNTS,
    results,
    peak,
    peakRatio: peak / bound,
  };
}

interface Run {
  validators: number;
  byzantine: boolean;
  verifyRate: number;
  bound: number;
  accounts: number;
  results: unknown[];
  peak: number;
  peakRatio: number;
}

const runs: Run[] = [];
for (const run of (BENCH_VALIDATORS ?? "1,4,4b").split(","))
  runs.push(await main(Number.parseInt(run, 10), run.endsWith("b")));
const honest4 = runs.find((r) => r.validators === 4 && !r.byzantine);
const byzantine4 = runs.find((r) => r.validators === 4 && r.byzantine);
if (honest4 && byzantine4)
  console.log(
    `\n4 validators, one Byzantine (flood-votes, max-size): peak ${byzantine4.peak.toFixed(0)}/s = ${(byzantine4.peak / honest4.peak).toFixed(3)} of the honest peak ${honest4.peak.toFixed(0)}/s measured in this run (target 0.8)`,
  );
const out = new URL("./out/node.json", import.meta.url);
mkdirSync(new URL(".", out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), quick: QUICK, runs }, null, 2)}\n`,
);
