/**
 * Twins testing of the consensus engine (testing/twins.ts): n = 4, one
 * validator's key running in two honest engines (f = 1), under seeded
 * partitions (per protocol round or per phase of virtual time) with drops,
 * repeats and reordering, then GST. Seeds 1..5000 run in about 8 s of CPU.
 *
 * TWINS_SCHEDULES=<k> runs seeds 1..k instead; TWINS_SEED=<s> replays
 * exactly schedule s (of each test) and prints its trace. A failing schedule
 * prints its seed and trace in the assertion message.
 */
import { describe, expect, it } from "vitest";
import { runTwins, type TwinsConfig, type TwinsOutcome } from "./testing/twins.ts";

const DEFAULT_SCHEDULES = 5000;

function fromEnv(name: string): number | null {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return null;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be an integer ≥ 0`);
  return value;
}

/**
 * Schedules beyond the default range that broke a mutated engine, run every
 * time. 76432: the one schedule in 200 000 that broke agreement with the
 * lock check of L29 removed (lockedRound ≤ vr ∨ lockedValue = v), a mutant
 * that every other consensus test lets through.
 */
const KNOWN_SEEDS = [76432];

const replay = fromEnv("TWINS_SEED");
const schedules = fromEnv("TWINS_SCHEDULES") ?? DEFAULT_SCHEDULES;

interface Explored {
  /** The first schedule with a violation, if any. */
  readonly failed: TwinsOutcome | null;
  readonly runs: number;
  /** Schedules where an honest engine decided before GST. */
  readonly decidedEarly: number;
  /** Schedules where some honest engine needed a timer after GST. */
  readonly neededTimers: number;
  readonly maxTimersAfterGst: number;
  readonly maxRoundsAfterGst: number;
}

/**
 * Runs seeds 1..count and `extra` (or the replayed one), stopping at the
 * first with a violation. Only counts are kept: an outcome holds its whole
 * simulation (for its trace), and 100 000 of them do not fit in a heap.
 */
async function explore(
  config: TwinsConfig,
  count: number,
  extra: readonly number[] = [],
): Promise<Explored> {
  const seeds =
    replay === null ? [...Array.from({ length: count }, (_, i) => i + 1), ...extra] : [replay];
  let runs = 0;
  let decidedEarly = 0;
  let neededTimers = 0;
  let maxTimersAfterGst = 0;
  let maxRoundsAfterGst = 0;
  let failed: TwinsOutcome | null = null;
  for (const seed of seeds) {
    const outcome = await runTwins(seed, config);
    runs++;
    if (outcome.decidedBeforeGst > 0) decidedEarly++;
    if (outcome.timersAfterGst > 0) neededTimers++;
    maxTimersAfterGst = Math.max(maxTimersAfterGst, outcome.timersAfterGst);
    maxRoundsAfterGst = Math.max(maxRoundsAfterGst, outcome.roundsAfterGst);
    if (replay !== null) console.log(outcome.summary());
    if (outcome.violations.length > 0) {
      failed = outcome;
      break;
    }
  }
  return { failed, runs, decidedEarly, neededTimers, maxTimersAfterGst, maxRoundsAfterGst };
}

describe("Twins: n = 4, one validator running as twins (f = 1)", () => {
  it(
    "no schedule breaks agreement, validity, certificates, single signing or liveness after GST",
    async () => {
      const explored = await explore({ validators: 4, twins: [0] }, schedules, KNOWN_SEEDS);
      const { failed } = explored;
      expect(failed?.violations ?? [], failed ? failed.summary() : "").toEqual([]);
      if (replay !== null) return;
      // The partitions did their job: some honest engines decided amid them (so
      // safety is tested on those decisions, not only on calm ones), and GST
      // liveness was needed often.
      console.log(
        `twins f=1: ${explored.runs} schedules, ${explored.decidedEarly} with an honest decision before GST, ` +
          `${explored.neededTimers} needing timers after GST (at most ${explored.maxTimersAfterGst} timers, ` +
          `${explored.maxRoundsAfterGst} rounds past the highest round at GST)`,
      );
      expect(explored.decidedEarly).toBeGreaterThan(explored.runs / 4);
      expect(explored.neededTimers).toBeGreaterThan(explored.runs / 10);
    },
    // About 1.5 ms a schedule here: room for any TWINS_SCHEDULES.
    60_000 + 10 * schedules,
  );
});

describe("Twins: the checker has teeth", () => {
  it("with two of four validators as twins (f = 2 > (n-1)/3) it finds two honest engines deciding different blocks", async () => {
    // Beyond the fault bound nothing promises liveness, so only safety is checked.
    const { failed, runs } = await explore(
      { validators: 4, twins: [0, 1], maxTimersAfterGst: null },
      2000,
    );
    if (replay !== null) return;
    expect(failed, `no violation in ${runs} schedules`).not.toBeNull();
    console.log(
      `twins f=2: agreement broken at seed ${failed!.scenario.seed}\n${failed!.summary()}`,
    );
    expect(failed!.violations.map((v) => v.kind)).toContain("agreement");
  });

  it("with no timer allowed after GST it reports the schedules that needed one as liveness failures", async () => {
    const { failed } = await explore({ validators: 4, twins: [0], maxTimersAfterGst: 0 }, 200);
    if (replay !== null) return;
    expect(failed, "every schedule decided without a timer").not.toBeNull();
    expect(failed!.violations.map((v) => v.kind)).toEqual(["liveness"]);
  });
});
