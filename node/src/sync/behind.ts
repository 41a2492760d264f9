/**
 * When a peer's consensus message says we are behind, block sync goes
 * looking only if we still are a moment later. A message two heights above
 * our head means a peer committed the next block; under load some
 * validator commits a few tens of ms after the others at nearly every
 * height, and fetching the block its own consensus is about to commit is
 * wasted on both ends (read and sent by the peer, decoded and checked here,
 * then dropped as "range no longer wanted": 66 times in a 40 s bench run of
 * 4 validators). A node that really fell behind is found by the grace
 * check, and by block sync's look-around when its head stalls (start.ts).
 */

/** How long a node may trail a peer's height before block sync fetches for it (ms). */
export const BEHIND_GRACE_MS = 500;

export interface StillBehindDeps {
  readonly headHeight: () => number;
  readonly trigger: () => void;
  readonly graceMs?: number;
}

/**
 * Returns what to call with the height of a message above head + 1: after
 * the grace, block sync is triggered if the head has not reached that
 * height's parent. One check waits at a time, for the highest height heard.
 */
export function stillBehind(deps: StillBehindDeps): (height: number) => void {
  const graceMs = deps.graceMs ?? BEHIND_GRACE_MS;
  let highest = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  return (height) => {
    highest = Math.max(highest, height);
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      if (deps.headHeight() < highest - 1) deps.trigger();
    }, graceMs);
    timer.unref?.();
  };
}
