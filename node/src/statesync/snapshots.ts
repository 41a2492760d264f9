/**
 * The snapshots this node serves: every `interval` heights (0: none) the
 * state at that height is kept for state sync, the `keep` most recent ones.
 * A snapshot is no copy: it is the state tree at that height, which the
 * pruner keeps while the snapshot is listed (Database.keepStateFrom), plus
 * its record (height, state root, chunk depth) in the meta bucket.
 */
import { fromHex, type SparseMerkleTree, toHex } from "@edgeledger/sdk/protocol";
import type { Database } from "../db/database.ts";
import { chunkDepth, type SnapshotInfo } from "./chunks.ts";

export interface SnapshotOptions {
  /** A snapshot every this many heights; 0 takes none (the node serves no state sync). */
  readonly interval: number;
  /** Snapshots kept; older ones go (their state is then pruned as usual). */
  readonly keep: number;
  /** Cut every snapshot at this depth (tests, to get several chunks of a small state); default: chunkDepth. */
  readonly depth?: number;
}

const SNAPSHOTS_META = "snapshots";

interface SnapshotRecord {
  readonly height: number;
  readonly stateRoot: string;
  readonly depth: number;
}

export class Snapshots {
  readonly #db: Database;
  readonly #tree: SparseMerkleTree;
  readonly #options: SnapshotOptions;
  #list: SnapshotInfo[];

  constructor(db: Database, tree: SparseMerkleTree, options: SnapshotOptions) {
    this.#db = db;
    this.#tree = tree;
    this.#options = options;
    const stored = db.getMeta<SnapshotRecord[]>(SNAPSHOTS_META) ?? [];
    this.#list = stored.map((r) => ({ ...r, stateRoot: fromHex(r.stateRoot) }));
    this.#protect();
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
    this.#list = [{ height, stateRoot, depth }, ...this.#list].slice(0, Math.max(1, keep));
    this.#protect();
    await this.#db.putMeta(
      SNAPSHOTS_META,
      this.#list.map((s) => ({ ...s, stateRoot: toHex(s.stateRoot) }) satisfies SnapshotRecord),
    );
  }

  #protect(): void {
    this.#db.keepStateFrom = this.#list.length === 0 ? null : this.#list.at(-1)!.height;
  }
}
