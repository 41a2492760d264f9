import { describe, expect, it } from "vitest";
import { type HeightPhase, HeightTimer } from "./phases.ts";

/** A clock the test moves by hand. */
function clock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function observed(timer: HeightTimer): [HeightPhase, number][] {
  const out: [HeightPhase, number][] = [];
  timer.finish((phase, seconds) => out.push([phase, seconds]));
  return out;
}

describe("height timer", () => {
  it("reports each phase as the span since the mark before it", () => {
    const c = clock();
    const timer = new HeightTimer(c.now);
    const steps: [Parameters<HeightTimer["mark"]>[0], number][] = [
      ["started", 20],
      ["proposal", 30],
      ["executed", 40],
      ["prevoted", 1],
      ["precommitted", 50],
      ["decided", 60],
    ];
    for (const [mark, ms] of steps) {
      c.advance(ms);
      timer.mark(mark);
    }
    c.advance(7);
    expect(observed(timer)).toEqual([
      ["wait", 0.02],
      ["proposal", 0.03],
      ["execute", 0.04],
      ["prevote", 0.001],
      ["prevotes", 0.05],
      ["precommits", 0.06],
      ["commit", 0.007],
    ]);
  });

  it("keeps the first time of a mark (a later round's proposal does not move it)", () => {
    const c = clock();
    const timer = new HeightTimer(c.now);
    c.advance(10);
    timer.mark("started");
    c.advance(10);
    timer.mark("proposal");
    c.advance(500);
    timer.mark("proposal");
    timer.mark("executed");
    expect(observed(timer).slice(0, 3)).toEqual([
      ["wait", 0.01],
      ["proposal", 0.01],
      ["execute", 0.5],
    ]);
  });

  it("a skipped mark folds its span into the next phase reached", () => {
    const c = clock();
    const timer = new HeightTimer(c.now);
    timer.mark("started");
    c.advance(5);
    timer.mark("proposal");
    c.advance(5);
    timer.mark("executed");
    // No prevote of ours for the block (a nil prevote), yet a polka and a precommit.
    c.advance(100);
    timer.mark("precommitted");
    c.advance(10);
    timer.mark("decided");
    expect(observed(timer).map(([p]) => p)).toEqual([
      "wait",
      "proposal",
      "execute",
      "prevotes",
      "precommits",
      "commit",
    ]);
    expect(observed(timer).find(([p]) => p === "prevotes")?.[1]).toBe(0.1);
  });
});
