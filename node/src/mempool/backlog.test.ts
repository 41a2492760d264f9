import { describe, expect, it } from "vitest";
import { Backlog } from "./backlog.ts";

describe("client backlog", () => {
  it("is the floor until the chain has a measured rate", () => {
    const b = new Backlog({ maxBacklogSeconds: 5, minBacklogTxs: 100 });
    expect(b.capacity(0)).toBe(100);
    b.committed(500, 0);
    expect(b.capacity(1000)).toBe(100); // one head: no rate yet
  });

  it("follows the measured commit rate, over the last 10 s", () => {
    const b = new Backlog({ maxBacklogSeconds: 5, minBacklogTxs: 100 });
    // 200 transactions every 500 ms: 400/s.
    for (let t = 0; t <= 5000; t += 500) b.committed(200, t);
    expect(b.rate(5000)).toBeCloseTo(400, 0);
    expect(b.capacity(5000)).toBe(2000);
    // The chain slows to 20 transactions a head: after a window the bound follows it down.
    for (let t = 5500; t <= 20_000; t += 500) b.committed(20, t);
    expect(b.rate(20_000)).toBeCloseTo(40, 0);
    expect(b.capacity(20_000)).toBe(200);
    // A stalled chain sheds down to the floor.
    expect(b.capacity(40_000)).toBe(100);
  });

  it("0 seconds turns shedding off", () => {
    const b = new Backlog({ maxBacklogSeconds: 0, minBacklogTxs: 100 });
    expect(b.capacity(0)).toBe(Number.POSITIVE_INFINITY);
  });
});
