/**
 * Node benchmark (issues 3, 11, 14): validators in separate processes,
 * signed transfers submitted over HTTP at increasing offered rates, each
 * step's committed tx/s divided by the signature bound measured around
 * that step (reference.ts). Per run: the ramp, a step at half the peak
 * (its submit → final p50/p99), single transfers on the idle network, each
 * validator's peak RSS and disk bytes per committed transaction.
 *
 * Runs (BENCH_RUNS, or BENCH_VALIDATORS as before; default
 * `1,4,4b,4@1e4,4@1e5,4@1e6`): `n` validators funding the bench's 2 000
 * senders in genesis; `4b` with the last validator Byzantine (the test-only
 * build flooding far-future votes and catch-up replies, proposing
 * maximum-size blocks that do not execute; issue 11), load sent to the
 * honest three; `4@N` with N more accounts derived from a seed in genesis
 * (genesis.ts `derivedAccounts`), every transfer to a random one of them,
 * so each touches a random leaf of the big tree.
 *
 * Run: npm run bench (or `node bench/node.bench.ts` in node/); BENCH_QUICK=1
 * for a short smoke run (200 senders; runs 1, 4 and 4@1e4, one step each). Writes bench/out/node.json; bench/summary.ts prints
 * the figures of both node benches.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import type { StatusJson } from "@edgeledger/sdk/api";
import { SecretKey, sha256, toHex, utf8 } from "@edgeledger/sdk/protocol";
import { useNativeSha256 } from "@edgeledger/sdk/protocol/node";
import { derivedAddress } from "../src/chain/genesis.ts";
import { seededRandom } from "../src/consensus/testing/harness.ts";
import { api } from "../src/testing/harness.ts";
import {
  HeadFollower,
  idleLatencies,
  percentile,
  phaseMeans,
  phaseTotals,
  runStep,
  type StepResult,
  Submitter,
  Transfers,
  waitForEmptyPool,
} from "./load.ts";
import { cleanupAll, diskBytes, memoryOf, startNetwork, stopNetwork } from "./network.ts";
import { aroundStep, signatureBound } from "./reference.ts";
import { printGrowth, printRun, type Run } from "./report.ts";

useNativeSha256();
const { BENCH_QUICK, BENCH_RATES, BENCH_RUNS, BENCH_VALIDATORS } = process.env;
const QUICK = BENCH_QUICK === "1";
const SENDERS = QUICK ? 200 : 2000;
const STEP_SECONDS = QUICK ? 1.5 : 4;
const RATES = QUICK ? [1000] : (BENCH_RATES ?? "1000,2000,4000,8000,16000").split(",").map(Number);
const IDLE_SAMPLES = QUICK ? 3 : 10;
/** Longest wait for a step's admitted transactions to commit. */
const DRAIN_MS = QUICK ? 4000 : 10_000;
const SPECS = (BENCH_RUNS ?? BENCH_VALIDATORS ?? (QUICK ? "1,4,4@1e4" : "1,4,4b,4@1e4,4@1e5,4@1e6"))
  .split(",")
  .map((s) => s.trim());
/** The seed of derived accounts: fixed, so every run funds the same addresses. */
const SEED = sha256(utf8("edgeledger node bench"));

function parseSpec(spec: string): { validators: number; byzantine: boolean; derived: number } {
  const m = /^(\d+)(b?)(?:@([0-9.e]+))?$/.exec(spec);
  if (!m) throw new Error(`run "${spec}": write n, nb or n@count (e.g. 4@1e6)`);
  return { validators: Number(m[1]), byzantine: m[2] === "b", derived: m[3] ? Number(m[3]) : 0 };
}

async function benchRun(spec: string): Promise<Run> {
  const { validators, byzantine, derived } = parseSpec(spec);
  const senders = Array.from({ length: SENDERS }, () => SecretKey.generate());
  process.stderr.write(
    `\n${spec}: starting ${validators} validator(s)${derived ? ` with ${derived} derived accounts` : ""}\n`,
  );
  const t0 = performance.now();
  const network = await startNetwork({
    validators,
    byzantine,
    senders,
    senderBalance: 10n ** 12n,
    derived: derived ? { seed: toHex(SEED), count: derived } : null,
  });
  const startSeconds = (performance.now() - t0) / 1000;
  const diskAfterGenesis = network.dataDirs.map(diskBytes);
  const url = network.urls[0]!;
  const submitter = new Submitter(network.submitUrls);
  const follower = new HeadFollower(url);
  const transfers = new Transfers(network.chainId, senders);
  const random = seededRandom(derived + validators);
  const fixedReceivers = Array.from({ length: 50 }, () =>
    SecretKey.generate().publicKey.slice(0, 20),
  );
  const receiver = derived
    ? () => derivedAddress(SEED, Math.floor(random() * derived))
    : () => fixedReceivers[Math.floor(random() * fixedReceivers.length)]!;
  try {
    // The idle figure first, on a network nothing has loaded yet.
    const samples = await idleLatencies(
      IDLE_SAMPLES,
      () => transfers.sign(receiver()),
      submitter,
      follower,
    );
    const sortedIdle = [...samples].sort((a, b) => a - b);
    const step = async (rate: number): Promise<StepResult> => {
      // Pre-signed, so signing does not slow the offered rate.
      const txs = Array.from({ length: Math.round(rate * STEP_SECONDS) }, () =>
        transfers.sign(receiver()),
      );
      const backlogAtStart = await waitForEmptyPool(url);
      const phasesBefore = await phaseTotals(network.urls);
      const { result, verifyRate } = await aroundStep(() =>
        runStep(rate, txs, submitter, follower, DRAIN_MS),
      );
      const r = {
        ...result,
        verifyRate,
        ratio: result.committedPerSec / signatureBound(verifyRate, validators),
        backlogAtStart,
        phases: phaseMeans(phasesBefore, await phaseTotals(network.urls)),
      };
      process.stderr.write(
        `offered ${rate}/s: committed ${Math.round(r.committedPerSec)}/s (ratio ${r.ratio.toFixed(3)}), p50 ${r.p50ms.toFixed(0)} ms, p99 ${r.p99ms.toFixed(0)} ms, rejected ${r.rejected}${backlogAtStart ? `, ${backlogAtStart} still pending from earlier steps at its start` : ""}\n`,
      );
      return r;
    };
    const results: StepResult[] = [];
    for (const rate of RATES) {
      const r = await step(rate);
      results.push(r);
      if (r.committed < r.submitted * 0.9 || r.rejected > r.submitted * 0.1) break; // past saturation
    }
    const peak = Math.max(...results.map((r) => r.committedPerSec));
    const half = await step(Math.max(1, Math.round(peak / 2)));
    const status = (await api<StatusJson>(`${url}/v1/status`)).body;
    const memory = network.children.map((c) => memoryOf(c.pid));
    await follower.close();
    submitter.close();
    await stopNetwork(network);
    const diskGrowth = network.dataDirs.map((d, i) => diskBytes(d) - diskAfterGenesis[i]!);
    const run: Run = {
      spec,
      validators,
      byzantine,
      accounts: SENDERS + derived,
      senders: SENDERS,
      derived,
      startSeconds,
      results,
      peak,
      peakRatio: Math.max(...results.map((r) => r.ratio)),
      half,
      idle: { samplesMs: samples, medianMs: percentile(sortedIdle, 50), maxMs: sortedIdle.at(-1)! },
      memory,
      diskGrowth,
      committedTotal: follower.committedTotal,
      finalHeight: status.height,
    };
    printRun(run, QUICK);
    return run;
  } finally {
    await follower.close();
    submitter.close();
    await cleanupAll();
  }
}

const started = performance.now();
const runs: Run[] = [];
try {
  for (const spec of SPECS) runs.push(await benchRun(spec));
} finally {
  await cleanupAll();
}
printGrowth(runs);
const out = new URL("./out/node.json", import.meta.url);
mkdirSync(new URL(".", out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), quick: QUICK, wallSeconds: (performance.now() - started) / 1000, runs }, null, 2)}\n`,
);
