import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BEHIND_GRACE_MS, stillBehind } from "./behind.ts";

describe("behind a peer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("does not fetch a block its own consensus commits within the grace", () => {
    let head = 10;
    const trigger = vi.fn();
    const heard = stillBehind({ headHeight: () => head, trigger });
    heard(12); // a peer votes at 12: it committed 11
    vi.advanceTimersByTime(BEHIND_GRACE_MS / 2);
    head = 11; // our consensus commits 11
    vi.advanceTimersByTime(BEHIND_GRACE_MS);
    expect(trigger).not.toHaveBeenCalled();
  });

  it("fetches once after the grace when the head did not get there, for the highest height heard", () => {
    let head = 10;
    const trigger = vi.fn();
    const heard = stillBehind({ headHeight: () => head, trigger });
    heard(12);
    heard(15);
    heard(13);
    head = 12; // it moved, but not to 14
    vi.advanceTimersByTime(BEHIND_GRACE_MS - 1);
    expect(trigger).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(trigger).toHaveBeenCalledTimes(1);
    // A later message starts a new check.
    heard(16);
    vi.advanceTimersByTime(BEHIND_GRACE_MS);
    expect(trigger).toHaveBeenCalledTimes(2);
  });
});
