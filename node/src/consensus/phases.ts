/**
 * Where a height's time goes, as the driver lives it: waiting for work,
 * waiting for the proposal, executing it, gathering prevotes, gathering
 * precommits, committing. Observed once per height this node commits
 * itself (a height block sync committed, or one left for a new head, is
 * not a sample), so an operator's histogram and the bench's breakdown say
 * which step a slow block spent its time in.
 */

/** Points in a height, in the order they happen. */
const MARKS = [
  "entered",
  "started",
  "proposal",
  "executed",
  "prevoted",
  "precommitted",
  "decided",
  "committed",
] as const;
export type HeightMark = (typeof MARKS)[number];

/** The span that ends at each mark (after the first). */
export type HeightPhase =
  | "wait"
  | "proposal"
  | "execute"
  | "prevote"
  | "prevotes"
  | "precommits"
  | "commit";
const PHASE_ENDING: Record<Exclude<HeightMark, "entered">, HeightPhase> = {
  started: "wait",
  proposal: "proposal",
  executed: "execute",
  prevoted: "prevote",
  precommitted: "prevotes",
  decided: "precommits",
  committed: "commit",
};

export type PhaseObserver = (phase: HeightPhase, seconds: number) => void;

/**
 * One height's marks; the first time of each counts (a later round's
 * proposal does not move "proposal"). `finish` reports the span before each
 * mark that was reached since the one before it that was reached: a
 * validator that never prevoted for the block (it precommitted on others'
 * polka) reports "prevotes" from its execution, not a phase it skipped.
 */
export class HeightTimer {
  readonly #now: () => number;
  readonly #at = new Map<HeightMark, number>();

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#at.set("entered", this.#now());
  }

  mark(m: HeightMark): void {
    if (!this.#at.has(m)) this.#at.set(m, this.#now());
  }

  finish(observe: PhaseObserver): void {
    this.mark("committed");
    let previous = this.#at.get("entered")!;
    for (const m of MARKS.slice(1)) {
      const at = this.#at.get(m);
      if (at === undefined || at < previous) continue;
      observe(PHASE_ENDING[m as Exclude<HeightMark, "entered">], (at - previous) / 1000);
      previous = at;
    }
  }
}
