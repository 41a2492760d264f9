/**
 * The storage metrics on a real pruning database: before a pruner pass the
 * counters are 0; after it they count what it deleted, the pass is in the
 * histogram with its end time, and the gauges read the same facts as the
 * health report's `storage` (earliest heights, snapshots, size on disk).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { Pruner } from "../db/pruner.ts";
import { databaseSize, storageReport } from "../db/report.ts";
import {
  commitTransfers,
  keyOf,
  loneValidatorGenesis,
  NOW,
  openTestChain,
  removeTestDirs,
} from "../testing/fixtures.ts";
import { registerStorageMetrics } from "./storage.ts";

const validator = keyOf(9);
const genesis = loneValidatorGenesis(validator, NOW - 1000);
afterEach(removeTestDirs);

async function metric(registry: Registry, name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  if (!m) throw new Error(`no metric ${name}`);
  // A histogram's value here is its count (the passes run).
  const values = m.values as { value: number; metricName?: string }[];
  const value = values.find((v) => v.metricName === `${name}_count`) ?? values[0];
  return Number(value?.value ?? 0);
}

describe("storage metrics", () => {
  it("move after a pruner pass: nodes deleted, blocks dropped, the pass timed, the earliest heights", async () => {
    const t = await openTestChain(genesis, { retention: { keepRecent: 3, retainBlocks: 3 } });
    await commitTransfers(t, validator, 8);
    const registry = new Registry();
    const snapshots = [{ height: 8 }, { height: 4 }];
    let pruner: Pruner | null = null;
    const report = () =>
      storageReport({
        db: t.db,
        pruner: pruner!,
        head: () => t.chain.head.height,
        snapshots: () => snapshots,
        dbSizeBytes: databaseSize(t.dir, 0),
      });
    const metrics = registerStorageMetrics(registry, report);
    pruner = new Pruner(t.db, {}, { onPass: (p) => metrics.pass(p) });
    const read = (name: string) => metric(registry, name);

    expect(await read("edgeledger_pruned_state_nodes_total")).toBe(0);
    expect(await read("edgeledger_pruned_blocks_total")).toBe(0);
    expect(await read("edgeledger_prune_pass_seconds")).toBe(0);
    expect(await read("edgeledger_prune_last_pass_timestamp_seconds")).toBe(0);
    expect(report().lastPruneAt).toBeNull();
    const before = Date.now();
    pruner.onCommit(t.chain.head.height);
    await pruner.idle();

    expect(await read("edgeledger_pruned_state_nodes_total")).toBe(pruner.totals.nodesDeleted);
    expect(pruner.totals.nodesDeleted).toBeGreaterThan(0);
    expect(await read("edgeledger_pruned_blocks_total")).toBe(5);
    expect(await read("edgeledger_prune_pass_seconds")).toBe(1);
    expect(await read("edgeledger_prune_last_pass_timestamp_seconds")).toBeGreaterThanOrEqual(
      Math.floor(before / 1000),
    );
    expect(report().lastPruneAt).toBeGreaterThanOrEqual(before);
    expect(await read("edgeledger_storage_earliest_state_height")).toBe(6);
    expect(await read("edgeledger_storage_earliest_block_height")).toBe(6);
    expect(await read("edgeledger_storage_earliest_header_height")).toBe(1);
    expect(await read("edgeledger_snapshots")).toBe(2);
    expect(await read("edgeledger_snapshot_latest_height")).toBe(8);
    expect(await read("edgeledger_db_size_bytes")).toBeGreaterThan(0);
  });

  it("count the pruner's compactions: how many, bytes given back, the last one's duration and end", async () => {
    const t = await openTestChain(genesis, { retention: { keepRecent: 3, retainBlocks: 3 } });
    await commitTransfers(t, validator, 8);
    const registry = new Registry();
    const report = () =>
      storageReport({
        db: t.db,
        pruner: pruner,
        head: () => t.chain.head.height,
        snapshots: () => [],
        dbSizeBytes: databaseSize(t.dir, 0),
      });
    const metrics = registerStorageMetrics(registry, report);
    // Due after the first deleted node, so that this pass compacts.
    const pruner: Pruner = new Pruner(
      t.db,
      { compactAfterNodes: 1 },
      { onPass: (p) => metrics.pass(p), onCompaction: (c) => metrics.compaction(c) },
    );
    const read = (name: string) => metric(registry, name);
    expect(await read("edgeledger_db_compactions_total")).toBe(0);
    expect(await read("edgeledger_db_compaction_last_timestamp_seconds")).toBe(0);
    const before = Date.now();
    pruner.onCommit(t.chain.head.height);
    await pruner.idle();
    expect(pruner.totals.compactions).toBe(1);
    expect(await read("edgeledger_db_compactions_total")).toBe(1);
    expect(await read("edgeledger_db_compaction_last_seconds")).toBeGreaterThan(0);
    expect(await read("edgeledger_db_compaction_last_timestamp_seconds")).toBeGreaterThanOrEqual(
      Math.floor(before / 1000),
    );
    expect(await read("edgeledger_db_compaction_reclaimed_bytes_total")).toBeGreaterThanOrEqual(0);
    await pruner.stop();
    await t.db.close();
  });

  it("reads the database's size at most once per max age", () => {
    const dir = mkdtempSync(join(tmpdir(), "db-size-"));
    try {
      let now = 0;
      const size = databaseSize(dir, 5000, () => now);
      writeFileSync(join(dir, "000001.log"), new Uint8Array(10));
      expect(size()).toBe(10);
      writeFileSync(join(dir, "000002.ldb"), new Uint8Array(20));
      now = 4999;
      expect(size()).toBe(10);
      now = 5000;
      expect(size()).toBe(30);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
