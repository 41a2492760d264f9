/**
 * What the node benches print: one table per run, the growth table of the
 * runs at scale, and the summary of every figure of issue 14 (value, the
 * limit it is divided by, ratio, target, holds) from bench/out/*.json.
 */
import type { StepResult } from "./load.ts";

export interface Run {
  /** As asked: "1", "4", "4b", "4@1e6". */
  spec: string;
  validators: number;
  byzantine: boolean;
  /** Funded accounts: the senders plus the derived ones. */
  accounts: number;
  senders: number;
  derived: number;
  /** Seconds from writing the homes to every API answering (the genesis build at scale). */
  startSeconds: number;
  results: StepResult[];
  peak: number;
  /** The best step's committed/s ÷ that step's own bound. */
  peakRatio: number;
  /** A step offered at half the peak, after the ramp. */
  half: StepResult | null;
  idle: { samplesMs: number[]; medianMs: number; maxMs: number } | null;
  /** Per validator: VmHWM and VmRSS at the end of the run, bytes. */
  memory: ({ peak: number; now: number } | null)[];
  /** Per validator: data folder bytes after the run minus after genesis. */
  diskGrowth: number[];
  committedTotal: number;
  finalHeight: number;
}

const MiB = 2 ** 20;
const fix = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "-");

export function printRun(run: Run, quick: boolean): void {
  console.log(
    `\nnode bench${quick ? " (BENCH_QUICK)" : ""} ${run.spec}: ${run.validators} validator(s)${run.byzantine ? ", one of them Byzantine (flood-votes, max-size)," : ""} as separate processes, ${run.accounts} funded accounts (${run.senders} senders${run.derived ? `, ${run.derived} derived` : ""}), started in ${fix(run.startSeconds, 1)} s; final height ${run.finalHeight}`,
  );
  console.log(
    run.validators === 1
      ? "bound per step: native Ed25519 verify, 1 core, measured before and after the step (higher kept); target ratio ≥ 0.8"
      : `bound per step: native verify over all cores ÷ ${run.validators}, measured before and after the step (higher kept); target ratio ≥ 0.6`,
  );
  console.log("offered/s  submitted  rejected  committed/s  bound/s  ratio   p50 ms  p99 ms");
  const row = (r: StepResult, label = String(r.offered)) =>
    console.log(
      `${label.padStart(9)}  ${String(r.submitted).padStart(9)}  ${String(r.rejected).padStart(8)}  ${fix(r.committedPerSec).padStart(11)}  ${fix(r.committedPerSec / r.ratio).padStart(7)}  ${fix(r.ratio, 3).padStart(5)}  ${fix(r.p50ms).padStart(6)}  ${fix(r.p99ms).padStart(6)}`,
    );
  for (const r of run.results) row(r);
  if (run.half) row(run.half, `½ ${run.half.offered}`);
  console.log(
    "where heights spent their time (mean ms per height and validator; consensus/phases.ts):",
  );
  for (const r of [...run.results, ...(run.half ? [run.half] : [])]) {
    const p = r.phases ?? {};
    const heights = p["commit"]?.count ?? 0;
    const shown = PHASES.filter((k) => p[k]).map((k) => `${k} ${fix(p[k]!.meanMs)}`);
    const rebuilt = p["rebuild:rebuilt"];
    const fetched = p["rebuild:fetched"]?.count ?? 0;
    console.log(
      `  ${String(r.offered).padStart(6)}/s: ${heights} heights; ${shown.join(", ")}${rebuilt ? `; compact rebuild ${fix(rebuilt.meanMs, 1)} ms (${rebuilt.count}), fetched whole ${fetched}` : ""}`,
    );
  }
  const mixed = [...run.results, ...(run.half ? [run.half] : [])].filter(
    (r) => r.backlogAtStart > 0,
  );
  if (mixed.length > 0)
    console.log(
      `not at rest: ${mixed.map((r) => `${r.offered}/s began with ${r.backlogAtStart} pending`).join(", ")}; those rows mix in earlier steps' commits`,
    );
  console.log(`peak committed ${fix(run.peak)}/s; best ratio ${fix(run.peakRatio, 3)}`);
  if (run.idle)
    console.log(
      `idle network, one transfer at a time: submit → final median ${fix(run.idle.medianMs)} ms, max ${fix(run.idle.maxMs)} ms (${run.idle.samplesMs.length} samples)`,
    );
  console.log(
    `validators: peak RSS ${run.memory.map((m) => (m ? `${fix(m.peak / MiB)}` : "?")).join(" / ")} MiB, RSS at end ${run.memory.map((m) => (m ? `${fix(m.now / MiB)}` : "?")).join(" / ")} MiB; disk per committed tx ${fix(diskPerTx(run))} bytes`,
  );
}

const PHASES = ["wait", "proposal", "execute", "prevote", "prevotes", "precommits", "commit"];

/** The largest validator's data growth ÷ committed transactions. */
export function diskPerTx(run: Run): number {
  return run.committedTotal > 0 ? Math.max(...run.diskGrowth) / run.committedTotal : Number.NaN;
}

export function maxPeakRss(run: Run): number {
  return Math.max(...run.memory.map((m) => m?.peak ?? Number.NaN));
}

/** How the 4-validator figures grow with the funded accounts. */
export function printGrowth(runs: readonly Run[]): void {
  const honest4 = runs.filter((r) => r.validators === 4 && !r.byzantine);
  if (honest4.length < 2) return;
  console.log("\n4 validators by funded accounts");
  console.log(
    "accounts   peak tx/s  ratio   p50/p99 ms at ½ peak  peak RSS MiB (max)  disk B/tx  start s",
  );
  for (const r of [...honest4].sort((a, b) => a.accounts - b.accounts))
    console.log(
      `${String(r.accounts).padStart(8)}  ${fix(r.peak).padStart(10)}  ${fix(r.peakRatio, 3).padStart(5)}  ${`${fix(r.half?.p50ms ?? Number.NaN)} / ${fix(r.half?.p99ms ?? Number.NaN)}`.padStart(20)}  ${fix(maxPeakRss(r) / MiB).padStart(18)}  ${fix(diskPerTx(r)).padStart(9)}  ${fix(r.startSeconds, 1).padStart(7)}`,
    );
}

export interface SyncResult {
  blocks: number;
  txsPerBlock: number;
  syncSeconds: number;
  /** Signatures the joiner verifies (transactions and certificate votes). */
  signatures: number;
  /** Native verifies/s on one core around the catch-up (higher kept), and the cores. */
  verifyRate: number;
  cores: number;
  /** Seconds to verify `signatures` on all cores at verifyRate: no catch-up can be faster. */
  limitSeconds: number;
}

export interface Figure {
  figure: string;
  value: string;
  limit: string;
  ratio: string;
  target: string;
  holds: "yes" | "no" | "-";
}

const holds = (ok: boolean | null): Figure["holds"] => (ok === null ? "-" : ok ? "yes" : "no");
const s = (ms: number) => `${fix(ms / 1000, 3)} s`;

/** Every figure of issue 14 the node benches measure, from their JSON. */
export function figures(runs: readonly Run[], sync: SyncResult | null): Figure[] {
  const out: Figure[] = [];
  const find = (pred: (r: Run) => boolean) => runs.find(pred);
  const one = find((r) => r.validators === 1);
  const four = find((r) => r.spec === "4");
  const byz = find((r) => r.byzantine);
  const big = [...runs]
    .filter((r) => r.validators === 4 && !r.byzantine && r.derived > 0)
    .sort((a, b) => b.accounts - a.accounts)[0];
  const throughput = (r: Run, name: string, target: number) => {
    const best = r.results.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    out.push({
      figure: name,
      value: `${fix(best.committedPerSec)} tx/s`,
      limit: `${fix(best.committedPerSec / best.ratio)} tx/s`,
      ratio: fix(best.ratio, 3),
      target: `≥ ${target}`,
      holds: holds(best.ratio >= target),
    });
  };
  const latency = (r: Run, label: string) => {
    if (!r.half) return;
    // A step that began with an earlier backlog pending measured that backlog too.
    const atRest = r.half.backlogAtStart === 0;
    for (const [p, ms, target] of [
      ["p50", r.half.p50ms, 500],
      ["p99", r.half.p99ms, 1500],
    ] as const)
      out.push({
        figure: `${label}: submit → final ${p} at ½ peak (${r.half.offered}/s)${atRest ? "" : ", not at rest"}`,
        value: s(ms),
        limit: "- (absolute)",
        ratio: "-",
        target: `< ${target / 1000} s`,
        holds: atRest ? holds(ms < target) : "-",
      });
  };
  if (four) {
    throughput(four, `4 validators, ${four.accounts} accounts: peak ÷ (verify/s × cores ÷ 4)`, 0.6);
    latency(four, "4 validators");
    if (four.idle)
      out.push({
        figure: "4 validators, idle: one transfer submit → final (median / max)",
        value: `${s(four.idle.medianMs)} / ${s(four.idle.maxMs)}`,
        limit: "- (absolute)",
        ratio: "-",
        target: "< 0.3 s",
        holds: holds(four.idle.maxMs < 300),
      });
  }
  if (one) throughput(one, "1 validator: peak ÷ one-core verify rate", 0.8);
  if (byz && four)
    out.push({
      figure: "4 validators, one Byzantine: peak ÷ honest peak",
      value: `${fix(byz.peak)} tx/s`,
      limit: `${fix(four.peak)} tx/s`,
      ratio: fix(byz.peak / four.peak, 3),
      target: "≥ 0.8",
      holds: holds(byz.peak / four.peak >= 0.8),
    });
  if (big) {
    const label = `4 validators, ${big.accounts} accounts`;
    throughput(big, `${label}: peak ratio`, big.accounts >= 1e6 ? 0.5 : 0.6);
    latency(big, label);
    const rss = maxPeakRss(big);
    out.push({
      figure: `${label}: peak RSS, largest validator`,
      value: `${fix(rss / MiB)} MiB`,
      limit: "1024 MiB",
      ratio: fix(rss / 2 ** 30, 3),
      target: "≤ 1 (1 GiB)",
      holds: holds(rss <= 2 ** 30),
    });
    out.push({
      figure: `${label}: disk bytes per committed tx`,
      value: `${fix(diskPerTx(big))} B`,
      limit: "-",
      ratio: "-",
      target: "(reported)",
      holds: "-",
    });
  }
  if (sync)
    out.push({
      figure: `sync: a full node ${sync.blocks} blocks behind catches up`,
      value: `${fix(sync.syncSeconds, 2)} s`,
      limit: `${fix(sync.limitSeconds, 2)} s (its signatures at native verify on ${sync.cores} cores)`,
      ratio: fix(sync.limitSeconds / sync.syncSeconds, 3),
      target: "< 5 s",
      holds: holds(sync.syncSeconds < 5),
    });
  return out;
}

export function printFigures(rows: readonly Figure[]): void {
  const cols = ["figure", "value", "limit", "ratio", "target", "holds"] as const;
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(width[i]!))
      .join("  ")
      .trimEnd();
  console.log(line(cols));
  console.log(line(width.map((w) => "-".repeat(w))));
  for (const r of rows) console.log(line(cols.map((c) => r[c])));
}
