/**
 * The pruning policy's driver: after each commit, deletes in the background
 * what the retention options (pruning.keepRecent, retainBlocks,
 * retainHeaders) no longer keep, and once what an archive run left (the
 * sweep), a bounded step at a time (database.ts holds the bookkeeping and
 * each step's batch), and compacts LevelDB after enough deletions.
 *
 * In the background, not in the commit's batch: a block's commit then costs
 * only its own records (two puts per changed node), and the deletions, which
 * read each stale node's `born` record, run between commits. A step is one
 * batch serialized with commits, so stopping (or crashing) between steps
 * leaves every kept height complete; the next run resumes from the entries
 * left.
 */
import type { Logger } from "pino";
import type { Database } from "./database.ts";

export interface PrunerOptions {
  /** Stale entries per step: one batch, during which commits wait (a few ms). */
  readonly stepEntries: number;
  /**
   * Compact LevelDB after this many deleted nodes (0: never; LevelDB's own
   * compactions then reclaim the space). See node/bench/storage.bench.ts.
   */
  readonly compactAfterNodes: number;
}

export const defaultPrunerOptions: PrunerOptions = { stepEntries: 4096, compactAfterNodes: 0 };

/** What one pass did (metrics/storage.ts counts these). */
export interface PrunePass {
  readonly seconds: number;
  readonly nodesDeleted: number;
  readonly blocksDropped: number;
  readonly headersDropped: number;
  readonly compacted: boolean;
  /** When it ended, unix ms. */
  readonly endedAt: number;
}

export class Pruner {
  readonly #db: Database;
  readonly #options: PrunerOptions;
  readonly #log: Logger | undefined;
  readonly #onPass: ((pass: PrunePass) => void) | undefined;
  #head = 0;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #sinceCompaction = 0;
  /** Totals since start, for metrics and tests. */
  readonly totals = {
    nodesDeleted: 0,
    blocksDropped: 0,
    headersDropped: 0,
    compactions: 0,
    passes: 0,
  };
  /** When the last pass ended (unix ms), null before the first. */
  lastPassAt: number | null = null;

  constructor(
    db: Database,
    options: Partial<PrunerOptions> = {},
    log?: Logger,
    onPass?: (pass: PrunePass) => void,
  ) {
    this.#db = db;
    this.#options = { ...defaultPrunerOptions, ...options };
    this.#log = log;
    this.#onPass = onPass;
  }

  get enabled(): boolean {
    const { keepRecent, retainBlocks, retainHeaders = 0 } = this.#db.retention;
    return keepRecent > 0 || retainBlocks > 0 || retainHeaders > 0;
  }

  /** A block at `head` was committed: prune up to its window, unless a pass is running (it goes again). */
  onCommit(head: number): void {
    this.#head = Math.max(this.#head, head);
    if (this.#stopped || !this.enabled) return;
    if (this.#running) {
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

  /** Resolves once no pass runs nor is asked for. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops after the current step; what is left is resumed by the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #pass(): Promise<void> {
    const started = performance.now();
    const before = { ...this.totals };
    await this.#prune();
    const t = this.totals;
    t.passes++;
    this.lastPassAt = Date.now();
    this.#onPass?.({
      seconds: (performance.now() - started) / 1000,
      nodesDeleted: t.nodesDeleted - before.nodesDeleted,
      blocksDropped: t.blocksDropped - before.blocksDropped,
      headersDropped: t.headersDropped - before.headersDropped,
      compacted: t.compactions > before.compactions,
      endedAt: this.lastPassAt,
    });
  }

  async #prune(): Promise<void> {
    const db = this.#db;
    const head = this.#head;
    const { stepEntries, compactAfterNodes } = this.#options;
    if (db.retention.keepRecent > 0) {
      // Snapshot heights (statesync/snapshots.ts) keep their state until they rotate out.
      const oldest = Math.min(db.oldestState(head), db.keepStateFrom ?? Number.POSITIVE_INFINITY);
      for (let done = false; !done && !this.#stopped; ) {
        const step = await db.pruneState(oldest, stepEntries);
        done = step.done;
        this.totals.nodesDeleted += step.deleted;
        this.#sinceCompaction += step.deleted;
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
    if (compactAfterNodes > 0 && this.#sinceCompaction >= compactAfterNodes && !this.#stopped) {
      this.#sinceCompaction = 0;
      await db.compact();
      this.totals.compactions++;
    }
  }
}

/** State keys a sweep step reads (its deletions are one batch). */
const SWEEP_STEP_KEYS = 4096;

/** Blocks dropped per batch: each is read and its header rewritten. */
const MAX_BLOCKS_PER_STEP = 256;
