import type { StateSyncHealthJson } from "@edgeledger/sdk/api";
import { describe, expect, it } from "vitest";
import { joinProgress } from "./progress.ts";

const base: StateSyncHealthJson = {
  phase: "discovering",
  snapshotHeight: 0,
  chunksDone: 0,
  chunksTotal: 0,
  bytes: 0,
  chunksRefused: 0,
  peers: 0,
};

describe("joinProgress", () => {
  it("says each phase in words, with the chunks, the share and the bytes while fetching", () => {
    expect(joinProgress(base)).toBe("joining by state sync: looking for a snapshot among peers");
    expect(joinProgress({ ...base, phase: "verifying", snapshotHeight: 12 })).toBe(
      "joining by state sync: verifying the snapshot at height 12",
    );
    expect(
      joinProgress({
        ...base,
        phase: "fetching",
        snapshotHeight: 12,
        chunksDone: 2,
        chunksTotal: 3,
        bytes: 1536,
        peers: 1,
      }),
    ).toBe(
      "joining by state sync: 2 of 3 chunks of the snapshot at height 12 (66%), 1.5 KiB this run from 1 peer",
    );
    expect(
      joinProgress({
        ...base,
        phase: "fetching",
        snapshotHeight: 8,
        chunksDone: 0,
        chunksRefused: 4,
        bytes: 3 * 1024 * 1024,
        peers: 3,
      }),
    ).toBe(
      "joining by state sync: 0 chunks of the snapshot at height 8, 3.0 MiB this run from 3 peers, 4 refused as bad",
    );
    expect(
      joinProgress({
        ...base,
        phase: "finishing",
        snapshotHeight: 8,
        chunksDone: 4,
        chunksTotal: 4,
      }),
    ).toBe("joining by state sync: all 4 chunks in, finishing the state at height 8");
  });
});
