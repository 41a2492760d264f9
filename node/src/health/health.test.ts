/** The health rule (health.ts) on plain facts: each state, the order they are decided in, and the clamps. */
import { describe, expect, it } from "vitest";
import { assessHealth, type HealthFacts, SYNC_LAG_BLOCKS, stallLimitMs } from "./health.ts";

const NOW = 1_700_000_000_000;
const ready: HealthFacts = {
  height: 100,
  headTime: NOW - 1000,
  now: NOW,
  peers: 3,
  needsPeers: true,
  validator: true,
  bestPeerHeight: 100,
  haltHeight: null,
  stallMs: stallLimitMs(60_000),
};

describe("node health", () => {
  it("is ready while following the chain with peers and a recent commit", () => {
    expect(assessHealth(ready)).toEqual({
      status: "ready",
      height: 100,
      lastCommitAgeMs: 1000,
      peers: 3,
      validator: true,
      bestPeerHeight: 100,
      behind: 0,
      haltHeight: null,
    });
    // A block or two behind is one height in flight, not syncing.
    expect(assessHealth({ ...ready, bestPeerHeight: 100 + SYNC_LAG_BLOCKS }).status).toBe("ready");
    // A sole validator commits without peers.
    expect(assessHealth({ ...ready, peers: 0, needsPeers: false }).status).toBe("ready");
  });

  it("says why it is not ready, in order: halted, live (no peers), syncing, catching-up", () => {
    const behind = { ...ready, bestPeerHeight: 100 + SYNC_LAG_BLOCKS + 1 };
    const stale = { ...ready, headTime: NOW - ready.stallMs - 1 };
    expect(assessHealth(behind)).toMatchObject({ status: "syncing", behind: 3 });
    expect(assessHealth(stale).status).toBe("catching-up");
    expect(assessHealth({ ...stale, ...behind, headTime: stale.headTime }).status).toBe("syncing");
    expect(assessHealth({ ...behind, peers: 0 }).status).toBe("live");
    expect(assessHealth({ ...behind, peers: 0, haltHeight: 100 }).status).toBe("halted");
    expect(assessHealth({ ...ready, haltHeight: 101 }).status).toBe("ready");
  });

  it("never reports a negative age or lag (a clock behind the block's BFT time, a peer behind us)", () => {
    const h = assessHealth({ ...ready, headTime: NOW + 500, bestPeerHeight: 90 });
    expect(h).toMatchObject({
      status: "ready",
      lastCommitAgeMs: 0,
      behind: 0,
      bestPeerHeight: 100,
    });
  });
});
