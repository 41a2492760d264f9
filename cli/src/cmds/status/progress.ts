/**
 * A state sync join's progress (GET /v1/health's `stateSync`, while the
 * node's status is state-syncing) in one line, for `edgeledger status`:
 * pure, so each phase's wording is tested without a joining node.
 */
import type { StateSyncHealthJson } from "@edgeledger/sdk/api";

const KIB = 1024;

function bytes(n: number): string {
  if (n < KIB) return `${n} B`;
  if (n < KIB * KIB) return `${(n / KIB).toFixed(1)} KiB`;
  return `${(n / KIB / KIB).toFixed(1)} MiB`;
}

export function joinProgress(s: StateSyncHealthJson): string {
  switch (s.phase) {
    case "discovering":
      return "joining by state sync: looking for a snapshot among peers";
    case "verifying":
      return `joining by state sync: verifying the snapshot at height ${s.snapshotHeight}`;
    case "fetching": {
      const total = s.chunksTotal > 0 ? ` of ${s.chunksTotal}` : "";
      const share =
        s.chunksTotal > 0 ? ` (${Math.floor((100 * s.chunksDone) / s.chunksTotal)}%)` : "";
      const refused = s.chunksRefused > 0 ? `, ${s.chunksRefused} refused as bad` : "";
      return `joining by state sync: ${s.chunksDone}${total} chunks of the snapshot at height ${s.snapshotHeight}${share}, ${bytes(s.bytes)} this run from ${s.peers} peer${s.peers === 1 ? "" : "s"}${refused}`;
    }
    case "finishing":
      return `joining by state sync: all ${s.chunksTotal} chunks in, finishing the state at height ${s.snapshotHeight}`;
  }
}
