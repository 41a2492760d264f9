/**
 * The snapshots this node serves: every `interval` heights (0: none) the
 * state at that height is kept for state sync, the `keep` most recent ones.
 * A snapshot is the state tree at that height, which the pruner keeps while
 * the snapshot is listed (Database.keepStateFrom), its record (height,
 * state root, chunk depth) in the meta bucket, and its chunks.
 *
 * Why the chunks are written out: a chunk read from the tree is a random
 * LevelDB read per node (nodes are keyed by hash), ~9 500 of them per
 * chunk at 10^6 accounts, and that walk was most of a join's time
 * (bench/statesync.bench.ts: 37 of 60 s at 1 000 blocks; worse the larger
 * the database, 259 s at 10^5 blocks). So once a snapshot is taken, one
 * background pass (one chunk at a time, a batch every EXPORT_BATCH_BYTES)
 * writes every non-empty chunk, encoded, to the `chunks` bucket; a joiner's
 * request is then one read. Cost: the chunks' bytes on disk per kept
 * snapshot (58 MiB at 10^6 accounts) and one walk per snapshot, however
 * many nodes join. Until the pass is done (and for a chunk over
 * MAX_CHUNK_BYTES) the chunk is read from the tree as before
 * (chunkLeaves.ts): the answer is the same bytes either way. A cut at
 * another depth than the record's is not served (protocol.ts). The
 * record says `chunks: true` once every chunk is written; a pass cut short
 * (a stop, a crash) runs again on the next start (resume()).
 */
import { fromHex, type SparseMerkleTree, toHex } from "@edgeledger/sdk/protocol";
import type { Database } from "../db/database.ts";
import { readChunkLeaves } from "./chunkLeaves.ts";
import { chunkDepth, encodeChunk, MAX_CHUNK_BYTES, type SnapshotInfo } from "./chunks.ts";

/** Chunks written per batch during the pass: bounds its memory (plus one chunk). */
const EXPORT_BATCH_BYTES = 4 * 2 ** 20;

export interface SnapshotOptions {
  /** A snapshot every this many heights; 0 takes none (the node serves no state sync). */
  readonly interval: number;
  /** Snapshots kept; older ones go (their state is then pruned as usual). */
  readonly keep: number;
  /** Cut every snapshot at this depth (tests, to get several chunks of a small state); default: chunkDepth. */
  readonly depth?: number;
  /** Told when writing a snapshot's chunks fails (its chunks are then read from the tree). */
  readonly onExportError?: (err: unknown, height: number) => void;
}

const SNAPSHOTS_META = "snapshots";

interface SnapshotRecord {
  readonly height: number;
  readonly stateRoot: string;
  readonly depth: number;
  /** Every chunk is in the `chunks` bucket. */
  readonly chunks?: boolean;
}

export class Snapshots {
  readonly #db: Database;
  readonly #tree: SparseMerkleTree;
  readonly #options: SnapshotOptions;
  #list: SnapshotInfo[];
  /** Heights whose chunks are all written. */
  readonly #exported = new Set<number>();
  /** The passes and deletions, one at a time (a deletion must not race a pass's batch). */
  #work: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(db: Database, tree: SparseMerkleTree, options: SnapshotOptions) {
    this.#db = db;
    this.#tree = tree;
    this.#options = options;
    const stored = db.getMeta<SnapshotRecord[]>(SNAPSHOTS_META) ?? [];
    this.#list = stored.map((r) => ({
      height: r.height,
      stateRoot: fromHex(r.stateRoot),
      depth: r.depth,
    }));
    for (const r of stored) if (r.chunks) this.#exported.add(r.height);
    this.#protect();
  }

  /** Whether every chunk of the snapshot at `height` is stored (the server then reads them). */
  exported(height: number): boolean {
    return this.#exported.has(height);
  }

  /**
   * Writes the chunks a stopped or crashed run left unwritten, and deletes
   * those of snapshots that rotated out meanwhile; in the background.
   */
  resume(): void {
    this.#queueCleanup();
    for (const s of this.#list) if (!this.#exported.has(s.height)) this.#queueExport(s);
  }

  /** Resolves when no pass or deletion is running or queued (the bench and tests wait here). */
  async idle(): Promise<void> {
    for (let work = this.#work; ; work = this.#work) {
      await work;
      if (work === this.#work) return;
    }
  }

  /** Stops the pass at its next chunk (at once, before the first await), and waits for it. */
  stop(): Promise<void> {
    this.#stopped = true;
    return this.idle();
  }

  /** Newest first. */
  list(): readonly SnapshotInfo[] {
    return this.#list;
  }

  at(height: number): SnapshotInfo | undefined {
    return this.#list.find((s) => s.height === height);
  }

  /**
   * A block at `height` with `stateRoot` was committed: takes a snapshot if
   * the height is due. Synchronous up to the record's write, so the pruner
   * (called after) already keeps the new height.
   */
  async onCommit(height: number, stateRoot: Uint8Array): Promise<void> {
    const { interval, keep } = this.#options;
    if (interval === 0 || height % interval !== 0 || this.at(height)) return;
    const depth = this.#options.depth ?? chunkDepth(this.#tree, stateRoot);
    const taken = { height, stateRoot, depth };
    this.#list = [taken, ...this.#list].slice(0, Math.max(1, keep));
    this.#protect();
    await this.#putRecords();
    this.#queueCleanup();
    this.#queueExport(taken);
  }

  #putRecords(): Promise<void> {
    return this.#db.putMeta(
      SNAPSHOTS_META,
      this.#list.map(
        (s) =>
          ({
            height: s.height,
            stateRoot: toHex(s.stateRoot),
            depth: s.depth,
            ...(this.#exported.has(s.height) && { chunks: true }),
          }) satisfies SnapshotRecord,
      ),
    );
  }

  #queue(task: () => Promise<void>, height: number): void {
    this.#work = this.#work.then(async () => {
      if (this.#stopped) return;
      try {
        await task();
      } catch (err) {
        // A snapshot pruned under the pass (it rotated out) is no fault; anything else is told.
        if (this.at(height) && !this.#stopped) this.#options.onExportError?.(err, height);
      }
    });
  }

  /** Deletes the chunks of heights no longer listed (all below the oldest listed: the list only drops its oldest). */
  #queueCleanup(): void {
    const oldest = this.#list.at(-1);
    for (const h of this.#exported) if (!this.at(h)) this.#exported.delete(h);
    if (oldest) this.#queue(() => this.#db.deleteSnapshotChunksBelow(oldest.height), oldest.height);
  }

  /** The pass over one snapshot's chunks (module comment); gives up if it rotates out or the node stops. */
  #queueExport(s: SnapshotInfo): void {
    const { height, stateRoot, depth } = s;
    const live = () => !this.#stopped && this.at(height) !== undefined;
    this.#queue(async () => {
      let batch: { index: number; bytes: Uint8Array }[] = [];
      let bytes = 0;
      const flush = async () => {
        if (batch.length > 0) await this.#db.putSnapshotChunks(height, batch);
        batch = [];
        bytes = 0;
      };
      for (let index = 0; index < 2 ** depth; index++) {
        if (!live()) return;
        const leaves = await readChunkLeaves(this.#db, stateRoot, depth, index, MAX_CHUNK_BYTES);
        // Empty (never asked for) or too large (refused): the server answers those from the tree.
        if (leaves === null || leaves.length === 0) continue;
        const chunk = encodeChunk({ height, depth, index, leaves });
        if (chunk.length > MAX_CHUNK_BYTES) continue;
        batch.push({ index, bytes: chunk });
        bytes += chunk.length;
        if (bytes >= EXPORT_BATCH_BYTES) await flush();
      }
      await flush();
      if (!live()) return;
      this.#exported.add(height);
      await this.#putRecords();
    }, height);
  }

  #protect(): void {
    this.#db.keepStateFrom = this.#list.length === 0 ? null : this.#list.at(-1)!.height;
  }
}
