/**
 * What this node keeps on disk, as the health report's `storage` field says
 * it (GET /v1/health, `edgeledger status`) and the storage metrics export it
 * (metrics/storage.ts): the retention in force, the oldest height of each
 * kind served, the snapshots kept, the database's size and the pruner's
 * last pass. Reads only in-memory records, and the data folder's file sizes
 * at most every few seconds (a scrape, a probe and the dashboard's "disk
 * filling" alert all ask).
 */
import type { StorageHealthJson } from "@edgeledger/sdk/api";
import { databaseBytes } from "./compact.ts";
import type { Database } from "./database.ts";
import type { Pruner } from "./pruner.ts";

export interface StorageReportDeps {
  readonly db: Pick<Database, "retention" | "oldestState" | "oldestBlock" | "oldestHeader">;
  readonly pruner: Pick<Pruner, "lastPassAt">;
  /** The last committed height. */
  readonly head: () => number;
  /** Snapshot heights kept (statesync/snapshots.ts), newest first. */
  readonly snapshots: () => readonly { readonly height: number }[];
  readonly dbSizeBytes: () => number;
}

export function storageReport(deps: StorageReportDeps): StorageHealthJson {
  const { db } = deps;
  const head = deps.head();
  const snapshots = deps.snapshots();
  const { keepRecent, retainBlocks, retainHeaders = 0 } = db.retention;
  return {
    retention: { keepRecent, retainBlocks, retainHeaders },
    earliestState: db.oldestState(head),
    earliestBlock: db.oldestBlock(head),
    earliestHeader: db.oldestHeader(head),
    snapshots: { count: snapshots.length, latest: snapshots[0]?.height ?? null },
    dbSizeBytes: deps.dbSizeBytes(),
    lastPruneAt: deps.pruner.lastPassAt,
  };
}

/** How old a measured size may be: a stat per file, so not on every scrape. */
export const DB_SIZE_MAX_AGE_MS = 5000;

/** The size of the files in `dir`, measured again once older than `maxAgeMs`. */
export function databaseSize(
  dir: string,
  maxAgeMs = DB_SIZE_MAX_AGE_MS,
  now: () => number = Date.now,
): () => number {
  let bytes = 0;
  let at = Number.NEGATIVE_INFINITY;
  return () => {
    if (now() - at >= maxAgeMs) {
      bytes = databaseBytes(dir);
      at = now();
    }
    return bytes;
  };
}
