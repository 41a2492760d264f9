/**
 * The pruning policy's driver: after each commit, deletes in the background
 * what the retention options (pruning.keepRecent, retainBlocks,
 * retainHeaders) no longer keep, and once what an archive run left (the
 * sweep), a bounded step at a time (database.ts holds the bookkeeping and
 * each step's batch); and compacts LevelDB when its files have grown well
 * past the data they hold (compactionDue).
 *
 * In the background, not in the commit's batch: a block's commit then costs
 * only its own records (two puts per changed node), and the deletions, which
 * read each stale node's `born` record, run between commits. A step is one
 * batch serialized with commits, so stopping (or crashing) between steps
 * leaves every kept height complete; the next run resumes from the entries
 * left.
 *
 * Why an automatic compaction: a pruned node's data stays the same size,
 * but LevelDB gives the space of a deleted record back only when a
 * compaction rewrites the file holding it, and its own compactions lag (in
 * node/bench/storage.bench.ts the files held 4–20× the live records, and the
 * size at a given height differed by 2× between runs). A compaction only
 * rewrites files (the records are the same before and after), so it is
 * crash-safe by construction; it runs on LevelDB's background thread, not
 * serialized with commits (it is not one of the database's write steps), so
 * commits go on meanwhile. Prune passes wait for it (and catch up after):
 * a prune step's iterator open when a compaction ends keeps the files it
 * replaced on disk until LevelDB's next flush (seen in autoCompaction.test.ts:
 * 57 KB of tables in 2.9 MB of files).
 */
import type { Logger } from "pino";
import { databaseBytes } from "./compact.ts";
import type { Database } from "./database.ts";

export interface PrunerOptions {
  /** Stale entries per step: one batch, during which commits wait (a few ms). */
  readonly stepEntries: number;
  /**
   * Compact once the database's files exceed the smallest size of the
   * files or of LevelDB's tables seen since the last compaction (about what
   * the records take) by this many percent
   * (0: never). Each compaction rewrites the live data once, so 50 costs
   * about two bytes written per byte of garbage, and keeps the disk within
   * max(×1.5 the live data, the live data + compactMinBytes).
   */
  readonly compactGrowthPercent: number;
  /** ...and by at least this many bytes: a small database is not compacted every few blocks. */
  readonly compactMinBytes: number;
  /** Compact after this many deleted state nodes too (0: no such trigger). */
  readonly compactAfterNodes: number;
}

export const defaultPrunerOptions: PrunerOptions = {
  stepEntries: 4096,
  compactGrowthPercent: 50,
  // LevelDB's write buffer (classic-level's default): at most one compaction
  // per memtable's worth of writes, so its info LOG and MANIFEST (which grow
  // by ~2.5 KB a compaction until the next open: 0.8 MiB over the bench's
  // 100 000 blocks, against 0.3 MiB without the policy) stay small.
  compactMinBytes: 4 * 2 ** 20,
  compactAfterNodes: 0,
};

/** What the compaction policy looks at, after each prune pass. */
export interface CompactionFacts {
  /** The database's files now. */
  readonly bytes: number;
  /** The smallest size of the files or of LevelDB's tables seen since the last compaction (or start). */
  readonly baseBytes: number;
  /** State nodes deleted since the last compaction. */
  readonly nodesDeleted: number;
}

/** Whether to compact now (pure): growth past the base by the percent and the minimum, or enough deletions. */
export function compactionDue(
  facts: CompactionFacts,
  o: Pick<PrunerOptions, "compactGrowthPercent" | "compactMinBytes" | "compactAfterNodes">,
): boolean {
  if (o.compactAfterNodes > 0 && facts.nodesDeleted >= o.compactAfterNodes) return true;
  if (o.compactGrowthPercent <= 0) return false;
  const growth = facts.bytes - facts.baseBytes;
  return growth >= Math.max((facts.baseBytes * o.compactGrowthPercent) / 100, o.compactMinBytes);
}

/** What one pass did (metrics/storage.ts counts these). */
export interface PrunePass {
  readonly seconds: number;
  readonly nodesDeleted: number;
  readonly blocksDropped: number;
  readonly headersDropped: number;
  /** Records of dropped transactions deleted. */
  readonly dropsDeleted: number;
  /** When it ended, unix ms. */
  readonly endedAt: number;
}

/** One automatic compaction (metrics/storage.ts). */
export interface Compaction {
  readonly seconds: number;
  /** The database's files before and after. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** When it ended, unix ms. */
  readonly endedAt: number;
}

export interface PrunerDeps {
  readonly log?: Logger;
  readonly onPass?: (pass: PrunePass) => void;
  readonly onCompaction?: (compaction: Compaction) => void;
  /** The database's size on disk (default: its folder's files). */
  readonly sizeBytes?: () => number;
}

export class Pruner {
  readonly #db: Database;
  readonly #options: PrunerOptions;
  readonly #log: Logger | undefined;
  readonly #deps: PrunerDeps;
  readonly #sizeBytes: () => number;
  #head = 0;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  /** State nodes deleted since the last compaction. */
  #sinceCompaction = 0;
  /** The smallest size of the files or of the tables seen since the last compaction; null before the first look. */
  #baseBytes: number | null = null;
  #compaction: Promise<void> | null = null;
  /** Totals since start, for metrics and tests. */
  readonly totals = {
    nodesDeleted: 0,
    blocksDropped: 0,
    headersDropped: 0,
    dropsDeleted: 0,
    compactions: 0,
    passes: 0,
  };
  /** When the last pass ended (unix ms), null before the first. */
  lastPassAt: number | null = null;

  constructor(db: Database, options: Partial<PrunerOptions> = {}, deps: PrunerDeps = {}) {
    this.#db = db;
    this.#options = { ...defaultPrunerOptions, ...options };
    this.#log = deps.log;
    this.#deps = deps;
    this.#sizeBytes = deps.sizeBytes ?? (() => databaseBytes(db.path));
  }

  get enabled(): boolean {
    const { keepRecent, retainBlocks, retainHeaders = 0 } = this.#db.retention;
    return keepRecent > 0 || retainBlocks > 0 || retainHeaders > 0;
  }

  /**
   * A block at `head` was committed: prune up to its window, unless a pass
   * or a compaction is running (a pass goes after it).
   */
  onCommit(head: number): void {
    this.#head = Math.max(this.#head, head);
    if (this.#stopped || !this.enabled) return;
    if (this.#running || this.#compaction) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass()
      .catch((err: unknown) => this.#log?.warn({ err }, "pruning pass failed"))
      .finally(() => {
        this.#running = null;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.onCommit(this.#head);
        }
      });
  }

  /** Resolves once no pass runs nor is asked for, and no compaction runs. */
  async idle(): Promise<void> {
    while (this.#running || this.#compaction) await (this.#running ?? this.#compaction);
  }

  /** True while an automatic compaction runs. */
  get compacting(): boolean {
    return this.#compaction !== null;
  }

  /**
   * Stops after the current step; what is left is resumed by the next start.
   * A compaction under way is waited for (LevelDB cannot stop one; the
   * database must not close under it).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    await this.#compaction;
  }

  async #pass(): Promise<void> {
    const started = performance.now();
    const before = { ...this.totals };
    await this.#prune();
    // Before the pass is reported: whoever waits for a pass sees whether it started a compaction.
    await this.#maybeCompact();
    const t = this.totals;
    t.passes++;
    this.lastPassAt = Date.now();
    this.#deps.onPass?.({
      seconds: (performance.now() - started) / 1000,
      nodesDeleted: t.nodesDeleted - before.nodesDeleted,
      blocksDropped: t.blocksDropped - before.blocksDropped,
      headersDropped: t.headersDropped - before.headersDropped,
      dropsDeleted: t.dropsDeleted - before.dropsDeleted,
      endedAt: this.lastPassAt,
    });
  }

  /** Starts a compaction if one is due and none runs; not awaited by the pass (see the module comment). */
  async #maybeCompact(): Promise<void> {
    if (this.#compaction || this.#stopped) return;
    const bytes = this.#sizeBytes();
    // The tables' size counts neither the log nor replaced files still on
    // disk: the lowest it has been since the last compaction is the nearest
    // to the live data (that compaction's own result may be no better: on a
    // database with no tables yet LevelDB writes the memtable out as it is).
    const tables = await this.#db.tableBytes();
    const baseBytes = Math.min(this.#baseBytes ?? bytes, bytes, tables);
    this.#baseBytes = baseBytes;
    if (!compactionDue({ bytes, baseBytes, nodesDeleted: this.#sinceCompaction }, this.#options))
      return;
    this.#compaction = this.#compact(bytes)
      .catch((err: unknown) => this.#log?.warn({ err }, "compaction failed"))
      .finally(() => {
        this.#compaction = null;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.onCommit(this.#head);
        }
      });
  }

  async #compact(bytesBefore: number): Promise<void> {
    const started = performance.now();
    this.#sinceCompaction = 0;
    await this.#db.compact();
    const bytesAfter = this.#sizeBytes();
    // The files' size now may still count inputs an iterator held during the
    // compaction (deleted at LevelDB's next flush): the tables' size is the base.
    this.#baseBytes = Math.min(bytesAfter, await this.#db.tableBytes());
    this.totals.compactions++;
    const compaction = {
      seconds: (performance.now() - started) / 1000,
      bytesBefore,
      bytesAfter,
      endedAt: Date.now(),
    };
    this.#log?.debug(compaction, "compacted the database");
    this.#deps.onCompaction?.(compaction);
  }

  async #prune(): Promise<void> {
    const db = this.#db;
    const head = this.#head;
    const { stepEntries } = this.#options;
    if (db.retention.keepRecent > 0) {
      // Snapshot heights (statesync/snapshots.ts) keep their state until they rotate out.
      const oldest = Math.min(db.oldestState(head), db.keepStateFrom ?? Number.POSITIVE_INFINITY);
      for (let done = false; !done && !this.#stopped; ) {
        const step = await db.pruneState(oldest, stepEntries);
        done = step.done;
        this.totals.nodesDeleted += step.deleted;
        this.#sinceCompaction += step.deleted;
      }
      // Dropped transactions' records go with the state of their height (database.ts recordDropped).
      for (;;) {
        if (this.#stopped) break;
        const step = await db.pruneDrops(db.oldestState(head), MAX_BLOCKS_PER_STEP);
        if (step.scanned === 0) break;
        this.totals.dropsDeleted += step.deleted;
      }
      // What went stale during an archive run, listed nowhere (database.ts sweepState).
      if (db.sweepPending !== null && !this.#stopped) {
        const swept = await db.sweepState(oldest, SWEEP_STEP_KEYS, () => this.#stopped);
        if (swept !== null) {
          this.totals.nodesDeleted += swept;
          this.#sinceCompaction += swept;
          this.#log?.info({ deleted: swept, oldest }, "swept the state an archive run left");
        }
      }
    }
    if (db.retention.retainBlocks > 0) {
      const oldest = db.oldestBlock(head);
      for (;;) {
        if (this.#stopped) break;
        const dropped = await db.pruneBlocks(oldest, MAX_BLOCKS_PER_STEP);
        if (dropped === 0) break;
        this.totals.blocksDropped += dropped;
      }
    }
    if ((db.retention.retainHeaders ?? 0) > 0) {
      // After the bodies: a header leaves the headers bucket only once its body has gone.
      const oldest = Math.min(db.oldestHeader(head), db.oldestBlock(head));
      for (;;) {
        if (this.#stopped) break;
        const step = await db.pruneHeaders(oldest, MAX_BLOCKS_PER_STEP);
        if (step.scanned === 0) break;
        this.totals.headersDropped += step.dropped;
      }
    }
  }
}

/** State keys a sweep step reads (its deletions are one batch). */
const SWEEP_STEP_KEYS = 4096;

/** Blocks (or drop records) per batch: each block is read and its header rewritten. */
const MAX_BLOCKS_PER_STEP = 256;
