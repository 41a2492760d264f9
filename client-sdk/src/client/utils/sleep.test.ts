import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sleep } from "./sleep.ts";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** Whether `p` has settled, without waiting for it. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe("sleep", () => {
  it("resolves after its time, not before", async () => {
    const p = sleep(100);
    await vi.advanceTimersByTimeAsync(99);
    expect(await settled(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(p)).toBe(true);
  });

  it("resolves at once when the signal aborts, and leaves no timer behind", async () => {
    const stop = new AbortController();
    const p = sleep(60_000, stop.signal);
    expect(vi.getTimerCount()).toBe(1);
    stop.abort();
    expect(await settled(p)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not start a timer for a signal that already aborted", async () => {
    expect(await settled(sleep(60_000, AbortSignal.abort()))).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("takes its listener off the signal when the time is up", async () => {
    const signal = new AbortController().signal;
    const remove = vi.spyOn(signal, "removeEventListener");
    const add = vi.spyOn(signal, "addEventListener");
    const p = sleep(10, signal);
    await vi.advanceTimersByTimeAsync(10);
    expect(await settled(p)).toBe(true);
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledWith("abort", add.mock.calls[0]![1]);
  });
});
