/**
 * Protocol versions and the activation schedule a genesis fixes.
 *
 * A protocol version names the rules a block is valid under; every header
 * carries the one it was built with (block.ts). Which version height h must
 * carry is a pure function of the genesis's schedule, so every node, and any
 * client holding the genesis, computes the same answer without asking a peer.
 * An empty schedule means version 1 forever: the chains created before
 * versions existed.
 *
 * The schedule is not in the genesis hash (the height-0 header's): block 1
 * names that hash as its parent, so an activation added to a running chain
 * (after a coordinated haltHeight) would orphan its history. What a block's
 * version is, validators settle, and the header carries it under their
 * certificate.
 */

/** The version of every block of a chain until its first activation. */
export const INITIAL_PROTOCOL_VERSION = 1;

/** From `height` on (inclusive), blocks carry `version`. */
export interface Upgrade {
  readonly height: number;
  readonly version: number;
}

/** Activations in increasing height and increasing version; empty: version 1 forever. */
export type UpgradeSchedule = readonly Upgrade[];

/** Most activations a schedule may hold (a bound on what a genesis file can make a node hold). */
export const MAX_UPGRADES = 64;

/** The protocol version a block at `height` must carry under `schedule`. */
export function protocolVersionAt(schedule: UpgradeSchedule, height: number): number {
  let version = INITIAL_PROTOCOL_VERSION;
  for (const u of schedule) {
    if (u.height > height) break;
    version = u.version;
  }
  return version;
}

/**
 * Why `schedule` is not a valid one, or null: heights from 1 and versions
 * from 2, both strictly increasing (a version never comes back, and two
 * activations never share a height), at most MAX_UPGRADES entries.
 */
export function scheduleViolation(schedule: UpgradeSchedule): string | null {
  if (schedule.length > MAX_UPGRADES) return `more than ${MAX_UPGRADES} activations`;
  let height = 0;
  let version = INITIAL_PROTOCOL_VERSION;
  for (const [i, u] of schedule.entries()) {
    if (!Number.isSafeInteger(u.height) || u.height <= height)
      return `upgrades[${i}].height must be an integer above ${height}`;
    if (!Number.isInteger(u.version) || u.version <= version || u.version > 0xffff_ffff)
      return `upgrades[${i}].version must be an integer above ${version}`;
    height = u.height;
    version = u.version;
  }
  return null;
}
