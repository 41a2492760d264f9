/**
 * Block time: proposer-based timestamps (PBTS, as CometBFT v1 runs them).
 *
 * The proposer of a new block stamps it with its own clock, strictly after
 * its parent's time. Every validator that receives a fresh proposal (one not
 * carrying an earlier polka) checks that the stamp fits the moment the
 * proposal arrived:
 *
 *     block.time − precision ≤ receivedAt ≤ block.time + messageDelay(round) + precision
 *
 * and prevotes nil if not. A block needs a polka, so more than 1/3 honest
 * validators found its time timely: no proposer alone can put the chain's
 * time hours ahead (which would expire every pending transaction, including
 * the vote that would remove it) or at the largest encodable value (after
 * which no next block could have a larger time: the chain would halt for
 * good). Block time is then within `precision` of honest clocks, give or
 * take the message delay, which is what transaction expiry (ledger.ts
 * compares expiresAt with block time) and the light client's trusting period
 * (measured from header time) rely on.
 *
 * Why PBTS and not BFT time (the weighted median of the previous
 * certificate's vote timestamps): it needs no change to votes or to the
 * certificate's encoding, a light client reads the time straight from the
 * header, and a block's time is its own proposal's moment, not its parent's
 * votes'. Its assumption is that honest clocks agree within `precision`
 * (NTP does far better) and that a proposal reaches honest validators
 * within `messageDelay`; when that fails (a slow round) the delay grows by
 * 10% a round, as in CometBFT, so a slow network still gets a timely round.
 *
 * Validity of a block (executeBlock) does not read a clock: it only needs
 * time > parent time. Timeliness is a vote-time check, so a block synced
 * long after it was made is as valid as on the day it was decided.
 */

export interface TimelinessOptions {
  /** How far apart honest validators' clocks may be (ms). */
  readonly precisionMs: number;
  /** How long a proposal may take from its proposer stamping it to reaching us, in round 0 (ms). */
  readonly messageDelayMs: number;
}

/**
 * CometBFT uses 505 ms and 15 s; our message delay is shorter because a
 * block is stamped when building starts and our blocks take well under a
 * second to build and gossip, even 4 validators on 2 cores under load
 * (a round at most costs a few seconds of slack for a proposer's clock).
 */
export const defaultTimeliness: TimelinessOptions = {
  precisionMs: 500,
  messageDelayMs: 5000,
};

/** The message delay allowed in `round`: 10% more each round (CometBFT's adaptive bound). */
export function messageDelay(options: TimelinessOptions, round: number): number {
  return options.messageDelayMs * 1.1 ** Math.min(round, 100);
}

/** Whether a fresh proposal of a block stamped `blockTime`, received at `receivedAt` in `round`, is timely. */
export function isTimely(
  blockTime: number,
  receivedAt: number,
  round: number,
  options: TimelinessOptions = defaultTimeliness,
): boolean {
  return (
    receivedAt >= blockTime - options.precisionMs &&
    receivedAt <= blockTime + messageDelay(options, round) + options.precisionMs
  );
}
