/**
 * Protocol versions and the activation schedule a genesis fixes.
 *
 * A protocol version names the rules a block is valid under; every header
 * carries the one it was built with (block.ts). Which version height h must
 * carry is a pure function of the genesis's schedule, so every node, and any
 * client holding the genesis, computes the same answer without asking a peer.
 * An empty schedule means version 1 forever: the chains created before
 * versions existed.
 */
import { type Codec, encode, list, struct, u32 } from "./codec/codec.ts";
import { heightField } from "./fields.ts";
import { taggedHash } from "./hash.ts";

/** The version of every block of a chain until its first activation. */
export const INITIAL_PROTOCOL_VERSION = 1;

/** From `height` on (inclusive), blocks carry `version`. */
export interface Upgrade {
  readonly height: number;
  readonly version: number;
}

/** Activations in increasing height and increasing version; empty: version 1 forever. */
export type UpgradeSchedule = readonly Upgrade[];

/** Most activations a schedule may hold (a bound on what a genesis file can make us decode). */
export const MAX_UPGRADES = 64;

const upgradeScheduleCodec: Codec<UpgradeSchedule> = list(
  "upgrades",
  struct<Upgrade>("Upgrade", { height: heightField, version: u32("version") }),
  MAX_UPGRADES,
);

const UPGRADES_TAG = "edgeledger/genesis/upgrades/v1";

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

/**
 * What the genesis header commits to for `schedule` (in its parentHash,
 * which height 0 has no other use for): 32 zero bytes for the empty
 * schedule, so every genesis made before schedules existed keeps its hash;
 * otherwise the tagged hash of the schedule's canonical encoding.
 */
export function upgradeScheduleHash(schedule: UpgradeSchedule): Uint8Array {
  if (schedule.length === 0) return new Uint8Array(32);
  return taggedHash(UPGRADES_TAG, encode(upgradeScheduleCodec, schedule));
}
