/**
 * The node's LevelDB (classic-level): one database, one sublevel ("bucket")
 * per kind of record, typed repositories over them, and one atomic batch per
 * committed block. Owns the on-disk layout; knows nothing of consensus or
 * HTTP.
 *
 * Buckets (keys → values):
 *   blocks   height (u64 BE)        → encoded Block
 *   certs    height                 → encoded FinalityCertificate
 *   hashes   block hash             → height
 *   txs      tx hash                → TxRecord (JSON): committed (height, index) or dropped (code)
 *   state    state-tree node hash   → node bytes ‖ u32 height of its last write (see below)
 *   meta     name                   → JSON (head, genesis, pruned)
 *   signing  "record"               → what this validator signed (see consensus/signingGuard.ts)
 *
 * Pruning (pruning.keepRecent, retainBlocks; the policy is pruner.ts):
 *   stale    height                 → hashes (32 bytes each) of the nodes that left the tree there
 *   headers  height                 → encoded header of a block whose body was dropped
 *                                     (or of a state-sync node's first height: it has no body)
 *   drops    height ‖ tx hash       → nothing: a dropped transaction's record in `txs`, by the
 *                                     head height when it was dropped, so that it goes with
 *                                     the state of that height (pruneDrops)
 *
 * State sync serving (statesync/snapshots.ts):
 *   chunks   height ‖ u32 index     → a snapshot's encoded chunk, written once after the
 *                                     snapshot is taken, deleted when it rotates out
 *
 * With pruning.retainHeaders the headers, certificates and hash index
 * entries below the window go too, except each header where the validator
 * set changes (nextValidatorsHash ≠ validatorsHash): a skipping light client
 * cannot jump over those (see pruneHeaders).
 *
 * Switching an archive to pruning: an archive writes no stale lists, so
 * what went stale then is listed nowhere. The first open with keepRecent > 0
 * after an archive run (meta "retention" says what the last open kept)
 * records a sweep (meta "sweep": the head height S then), in one synced
 * batch; once the oldest kept state P is at or above S, the pruner deletes
 * every node written at or before S that the tree at P lacks (sweepState),
 * then deletes the record. A crash before that leaves the record: the sweep
 * runs again from the start (it is idempotent).
 *
 * State sync (statesync/): the snapshots kept (meta "snapshots") are heights
 * whose state the pruner keeps (`keepStateFrom`); a node that joined by
 * state sync starts with the snapshot's nodes, born at its height, and a
 * pruned record saying nothing below it is here.
 *
 * Why a node's value carries the height of its last write: nodes are
 * content-addressed, so a node that left the tree at height s can be written
 * again at r ≥ s (a balance returns to an earlier value: the same leaf, the
 * same subtrees). A stale list alone would then delete a live node. The
 * entry (s, X) deletes X only if X's last write is before s: then X is in no
 * tree from s on. Every write puts the height (archive nodes too, so a run
 * without pruning leaves no gap), at no extra record: a separate record per
 * write and per stale node made a block's commit 5.4–5.6× as dear as an
 * archive's in storage.bench.ts (the cost is per batch operation), against
 * 1.1–2.2× with this layout (busy machine). The stale list goes in the block's own
 * batch, and a prune step (one batch: deletions, lists, meta) is serialized
 * with commits, so a crash between any two batches leaves every kept
 * height's state complete.
 */
import {
  type Block,
  type BlockHeader,
  blockHash,
  decodeBlock,
  decodeBlockHeader,
  decodeFinalityCertificate,
  encodeBlockHeader,
  encodeFinalityCertificate,
  equalBytes,
  type FinalityCertificate,
  type NodeStore,
  type NodeWrite,
  SparseMerkleTree,
  transactionHash,
} from "@edgeledger/sdk/protocol";
import { type BatchOperation, ClassicLevel, type GetManyOptions } from "classic-level";
import { DEFAULT_NODE_CACHE_BYTES, NodeCache } from "./nodeCache.ts";

type Bytes = Uint8Array;
const OPTS = { keyEncoding: "view", valueEncoding: "view" } as const;
function openBucket(db: ClassicLevel<Bytes, Bytes>, bucketName: string) {
  return db.sublevel<Bytes, Bytes>(bucketName, OPTS);
}
type Bucket = ReturnType<typeof openBucket>;
type Op = BatchOperation<ClassicLevel<Bytes, Bytes>, Bytes, Bytes>;

export interface HeadRecord {
  readonly height: number;
  readonly hash: string;
  readonly stateRoot: string;
}

export type TxRecord =
  | { readonly status: "committed"; readonly height: number; readonly index: number }
  | {
      readonly status: "dropped";
      readonly code: string;
      readonly message: string;
      readonly tx: string;
    };

const text = new TextEncoder();
const untext = new TextDecoder();
const json = (v: unknown): Bytes => text.encode(JSON.stringify(v));
const unjson = <T>(b: Bytes): T => JSON.parse(untext.decode(b)) as T;
const name = (s: string): Bytes => text.encode(s);

export function heightKey(height: number): Bytes {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setBigUint64(0, BigInt(height));
  return k;
}

/** u64 height ‖ u32 index: a snapshot's chunks in order, heights apart. */
function chunkKey(height: number, index: number): Bytes {
  const k = new Uint8Array(12);
  const view = new DataView(k.buffer);
  view.setBigUint64(0, BigInt(height));
  view.setUint32(8, index);
  return k;
}

export interface BlockCommit {
  readonly block: Block;
  readonly blockBytes: Bytes;
  readonly blockHash: Bytes;
  readonly certificate: FinalityCertificate;
  readonly txHashes: readonly Bytes[];
  readonly stateWrites: readonly NodeWrite[];
  /** Nodes of the parent's tree this block's tree no longer reaches (kept only when pruning). */
  readonly staleNodes?: readonly Bytes[];
  readonly head: HeadRecord;
  /** Meta records that change with this block (e.g. the validator-set schedule). */
  readonly meta?: readonly { key: string; value: unknown }[];
}

/** What to keep; 0 keeps everything (an archive node). Defaults in config/config.ts. */
export interface RetentionOptions {
  /** The state (tree) of this many most recent heights. */
  readonly keepRecent: number;
  /** Bodies of this many most recent blocks; older ones keep header and certificate. */
  readonly retainBlocks: number;
  /**
   * Headers and certificates of this many most recent blocks, plus every
   * validator-set change (0: all). At least keepRecent and retainBlocks (config checks).
   */
  readonly retainHeaders?: number;
}

/** Oldest heights whose state / block body a prune pass may already have deleted below. */
export interface PrunedRecord {
  readonly state: number;
  readonly blocks: number;
  /** Below this, only set-change headers are kept (absent in records written before retainHeaders). */
  readonly headers?: number;
}

/** The nearest heights around a dropped header whose header is served (null: none). */
export interface KeptHeaders {
  readonly keptBelow: number | null;
  readonly keptAbove: number | null;
}

export interface PruneStepResult {
  /** Stale entries read (each one removed). */
  readonly entries: number;
  /** State nodes deleted. */
  readonly deleted: number;
  /** True when no entry at or below the target height is left. */
  readonly done: boolean;
}

const BUCKETS = [
  "blocks",
  "certs",
  "hashes",
  "txs",
  "state",
  "meta",
  "signing",
  "stale",
  "headers",
  "drops",
  "chunks",
] as const;
export type BucketName = (typeof BUCKETS)[number];
const PRUNED_META = "pruned";
/** What the last open kept ({ keepRecent }), to see a switch from archive to pruning. */
const RETENTION_META = "retention";
/** A pending sweep: the height at which an archive switched to pruning (see the module comment). */
const SWEEP_META = "sweep";
/** Marks a database whose state values carry their write height (see the module comment). */
const STATE_FORMAT_META = "stateFormat";
const STATE_FORMAT = 2;
/** Bytes after a node in its value: the height of its last write, u32 BE. */
const BORN_BYTES = 4;
/** Reads that must not push out LevelDB's block cache (the sublevel passes the option on to classic-level). */
const NO_FILL: GetManyOptions<Bytes, Bytes> = { fillCache: false };

export class Database {
  readonly #db: ClassicLevel<Bytes, Bytes>;
  readonly #blocks: Bucket;
  readonly #certs: Bucket;
  readonly #hashes: Bucket;
  readonly #txs: Bucket;
  readonly #state: Bucket;
  readonly #meta: Bucket;
  readonly #signing: Bucket;
  readonly #stale: Bucket;
  readonly #headers: Bucket;
  readonly #drops: Bucket;
  readonly #chunks: Bucket;
  readonly retention: RetentionOptions;
  /** The database's folder. */
  readonly path: string;
  /** Commits and prune steps, one at a time: a step's decision must not race a commit's writes. */
  #writes: Promise<unknown> = Promise.resolve();
  #pruned: PrunedRecord = { state: 0, blocks: 0 };
  #sweep: number | null = null;
  /** Only an opener that says what it keeps records it (not `snapshot export`, which commits nothing). */
  readonly #notesRetention: boolean;
  /** Stale entries of heights below this are all processed (this run; 0 after a restart). */
  #staleDone = 0;
  /**
   * The oldest snapshot height (statesync/snapshots.ts sets it): the pruner
   * keeps the state from here on, whatever keepRecent says. null: none.
   */
  keepStateFrom: number | null = null;

  /**
   * State-tree nodes are immutable (content-addressed), so a cache of them
   * can never be stale. It keeps the upper levels, which every read walks,
   * out of LevelDB; bounded in bytes (see nodeCache.ts).
   */
  readonly #nodeCache: NodeCache;

  constructor(
    path: string,
    options: { nodeCacheBytes?: number; retention?: RetentionOptions } = {},
  ) {
    this.path = path;
    this.retention = options.retention ?? { keepRecent: 0, retainBlocks: 0 };
    this.#notesRetention = options.retention !== undefined;
    this.#nodeCache = new NodeCache(options.nodeCacheBytes ?? DEFAULT_NODE_CACHE_BYTES);
    this.#db = new ClassicLevel<Bytes, Bytes>(path, OPTS);
    const bucket = (n: string) => openBucket(this.#db, n);
    this.#blocks = bucket("blocks");
    this.#certs = bucket("certs");
    this.#hashes = bucket("hashes");
    this.#txs = bucket("txs");
    this.#state = bucket("state");
    this.#meta = bucket("meta");
    this.#signing = bucket("signing");
    this.#stale = bucket("stale");
    this.#headers = bucket("headers");
    this.#drops = bucket("drops");
    this.#chunks = bucket("chunks");
  }

  async open(): Promise<void> {
    await this.#db.open();
    // Sublevels finish opening after their parent; getSync needs them open now.
    await Promise.all(
      [
        this.#blocks,
        this.#certs,
        this.#hashes,
        this.#txs,
        this.#state,
        this.#meta,
        this.#signing,
        this.#stale,
        this.#headers,
        this.#drops,
        this.#chunks,
      ].map((b) => b.open()),
    );
    this.#pruned = this.getMeta<PrunedRecord>(PRUNED_META) ?? { state: 0, blocks: 0 };
    const format = this.getMeta<number>(STATE_FORMAT_META);
    if (format === STATE_FORMAT) return this.#noteRetention();
    if (this.getMeta("genesis") !== undefined)
      throw new Error(
        "This database stores state nodes without their write height (written before pruning existed). Fix: move the data folder away and sync the node again.",
      );
    await this.putMeta(STATE_FORMAT_META, STATE_FORMAT);
    await this.#noteRetention();
  }

  /**
   * Records this open's keepRecent, and a sweep when it prunes after an
   * archive run (or after a run from before this record, which may have
   * been one). One synced batch.
   */
  async #noteRetention(): Promise<void> {
    const { keepRecent } = this.retention;
    const last = this.getMeta<{ keepRecent: number }>(RETENTION_META);
    const head = this.getMeta<HeadRecord>("head");
    this.#sweep = this.getMeta<number>(SWEEP_META) ?? null;
    if (!this.#notesRetention) return;
    const switched =
      keepRecent > 0 && (head?.height ?? 0) > 0 && (last === undefined || last.keepRecent === 0);
    if (!switched && last?.keepRecent === keepRecent) return;
    const ops: Op[] = [
      { type: "put", sublevel: this.#meta, key: name(RETENTION_META), value: json({ keepRecent }) },
    ];
    const sweep = switched ? Math.max(this.#sweep ?? 0, head!.height) : this.#sweep;
    if (sweep !== null)
      ops.push({ type: "put", sublevel: this.#meta, key: name(SWEEP_META), value: json(sweep) });
    await this.#db.batch(ops, { sync: true });
    this.#sweep = sweep;
  }

  /** The height of a pending sweep (an archive switched to pruning there), or null. */
  get sweepPending(): number | null {
    return this.#sweep;
  }

  /** The oldest height whose state this node serves, with `head` the last committed height. */
  oldestState(head: number): number {
    const { keepRecent } = this.retention;
    return Math.max(keepRecent > 0 ? head - keepRecent + 1 : 0, this.#pruned.state, 0);
  }

  /**
   * Every header from this height on is kept (below: only set changes): the
   * retainHeaders window, or lower while a snapshot there is kept (its
   * header goes with its state).
   */
  oldestHeader(head: number): number {
    const retainHeaders = this.retention.retainHeaders ?? 0;
    const window = retainHeaders > 0 ? head - retainHeaders + 1 : 1;
    return Math.max(Math.min(window, this.keepStateFrom ?? window), this.#pruned.headers ?? 1, 1);
  }

  /** The kept headers nearest to `height`, a height below `oldestHeader` (HEADER_PRUNED's details). */
  async keptHeadersAround(height: number, head: number): Promise<KeptHeaders> {
    const oldest = this.oldestHeader(head);
    const nearest = async (range: { lt: Bytes } | { gt: Bytes }, reverse: boolean) => {
      const [key] = await this.#headers.keys({ ...range, reverse, limit: 1 }).all();
      return key === undefined ? null : heightOf(key);
    };
    const above = await nearest({ gt: heightKey(height) }, false);
    return {
      keptBelow: await nearest({ lt: heightKey(height) }, true),
      // Every header from `oldest` on is kept (in this bucket, or in its block).
      keptAbove: above !== null && above < oldest ? above : oldest,
    };
  }

  /** The oldest height whose block body this node serves (headers and certificates stay). */
  oldestBlock(head: number): number {
    const { retainBlocks } = this.retention;
    return Math.max(retainBlocks > 0 ? head - retainBlocks + 1 : 1, this.#pruned.blocks, 1);
  }

  close(): Promise<void> {
    return this.#db.close();
  }

  /** The state tree's view of the `state` bucket. Reads are synchronous (getSync). */
  readonly stateStore: NodeStore = {
    get: (hash) => {
      const hit = this.#nodeCache.get(hash);
      if (hit) return hit;
      const value = this.#state.getSync(hash);
      if (!value) return undefined;
      const node = value.subarray(0, value.length - BORN_BYTES);
      this.#nodeCache.set(hash, node);
      return node;
    },
  };

  /**
   * Many state nodes at once (undefined where absent), for walks that read a
   * whole subtree (state sync's serving side). The cache answers what it
   * holds; the rest is one getMany, which LevelDB runs on libuv's thread
   * pool: at 10^6 accounts a chunk's ~9 500 random reads cost ~12 µs each
   * through getSync, on the event loop (about 60 % of a join, profiled).
   * What LevelDB reads here is not cached (neither in the node cache nor in
   * LevelDB's block cache): a joiner reads the whole state once, and would
   * only push out the upper levels that every block's execution walks.
   */
  async getStateNodes(hashes: readonly Bytes[]): Promise<(Bytes | undefined)[]> {
    const out: (Bytes | undefined)[] = new Array(hashes.length);
    const missing: Bytes[] = [];
    const at: number[] = [];
    for (const [i, hash] of hashes.entries()) {
      const hit = this.#nodeCache.get(hash);
      if (hit) out[i] = hit;
      else {
        missing.push(hash);
        at.push(i);
      }
    }
    if (missing.length === 0) return out;
    const values = await this.#state.getMany(missing, NO_FILL);
    for (const [j, value] of values.entries())
      out[at[j]!] = value ? value.subarray(0, value.length - BORN_BYTES) : undefined;
    return out;
  }

  /**
   * A snapshot's chunks (statesync/snapshots.ts), in one batch. Not synced
   * nor serialized with commits: no decision reads them back but serving,
   * and a chunk lost in a crash is read from the tree instead.
   */
  async putSnapshotChunks(
    height: number,
    chunks: readonly { readonly index: number; readonly bytes: Bytes }[],
  ): Promise<void> {
    await this.#chunks.batch(
      chunks.map((c) => ({ type: "put", key: chunkKey(height, c.index), value: c.bytes })),
    );
  }

  /** One stored chunk (a single read, on the thread pool), or undefined. */
  async getSnapshotChunk(height: number, index: number): Promise<Bytes | undefined> {
    return (await this.#chunks.get(chunkKey(height, index))) ?? undefined;
  }

  /** Deletes the chunks of every height below `height` (snapshots that rotated out). */
  async deleteSnapshotChunksBelow(height: number): Promise<void> {
    await this.#chunks.clear({ lt: chunkKey(height, 0) });
  }

  /** Bytes the state-node cache holds (slabs and index). */
  get nodeCacheBytes(): number {
    return this.#nodeCache.bytes;
  }

  getMeta<T>(key: string): T | undefined {
    const v = this.#meta.getSync(name(key));
    return v ? unjson<T>(v) : undefined;
  }

  async putMeta(key: string, value: unknown, extraState: readonly NodeWrite[] = []): Promise<void> {
    await this.#db.batch(
      [
        { type: "put", sublevel: this.#meta, key: name(key), value: json(value) },
        ...this.#statePuts(extraState, 0),
      ],
      { sync: true },
    );
    // Genesis state goes through here: cached like a block's writes.
    for (const w of extraState) this.#nodeCache.set(w.hash, w.node);
  }

  getBlock(height: number): Block | undefined {
    const v = this.#blocks.getSync(heightKey(height));
    return v ? decodeBlock(v) : undefined;
  }

  /** A final block's header: from its block, or kept alone once the body was dropped. */
  getHeader(height: number): BlockHeader | undefined {
    const kept = this.#headers.getSync(heightKey(height));
    if (kept) return decodeBlockHeader(kept);
    return this.getBlock(height)?.header;
  }

  getBlockBytes(height: number): Bytes | undefined {
    return this.#blocks.getSync(heightKey(height)) ?? undefined;
  }

  getCertificate(height: number): FinalityCertificate | undefined {
    const v = this.#certs.getSync(heightKey(height));
    return v ? decodeFinalityCertificate(v) : undefined;
  }

  getHeightByHash(hash: Bytes): number | undefined {
    const v = this.#hashes.getSync(hash);
    return v ? Number(new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0)) : undefined;
  }

  getTx(hash: Bytes): TxRecord | undefined {
    const v = this.#txs.getSync(hash);
    return v ? unjson<TxRecord>(v) : undefined;
  }

  /**
   * Records drops at `height` (the head when they were dropped). A pruning
   * node indexes them by that height too: any client can have transactions
   * admitted and then dropped (a nonce gap, a short expiry) at no cost, so
   * their records must not outlive the state of that height (pruneDrops).
   */
  async recordDropped(
    entries: readonly { hash: Bytes; record: TxRecord }[],
    height: number,
  ): Promise<void> {
    // A drop never overwrites a commit: the same transaction can be on chain
    // (committed through another path) and dropped from a stale mempool copy.
    // Serialized with commits, so that none lands between the check and the write.
    await this.#exclusive(() => this.#putDropped(entries, height));
  }

  async #putDropped(
    entries: readonly { hash: Bytes; record: TxRecord }[],
    height: number,
  ): Promise<void> {
    const fresh = entries.filter((e) => this.getTx(e.hash)?.status !== "committed");
    if (fresh.length === 0) return;
    const indexed = this.retention.keepRecent > 0;
    await this.#db.batch(
      fresh.flatMap((e): Op[] => [
        { type: "put", sublevel: this.#txs, key: e.hash, value: json(e.record) },
        ...(indexed
          ? [
              {
                type: "put" as const,
                sublevel: this.#drops,
                key: dropKey(height, e.hash),
                value: new Uint8Array(0),
              },
            ]
          : []),
      ]),
    );
  }

  /**
   * Deletes the records of up to `limit` transactions dropped at heights
   * below `oldest` (the oldest height whose state is kept), and their index
   * entries; a record that a commit replaced since stays. One batch,
   * serialized with commits (a commit's record must not be lost to a stale
   * read). Returns the records deleted.
   */
  pruneDrops(oldest: number, limit: number): Promise<{ scanned: number; deleted: number }> {
    return this.#exclusive(async () => {
      const keys = await this.#drops.keys({ lt: heightKey(oldest), limit }).all();
      if (keys.length === 0) return { scanned: 0, deleted: 0 };
      const hashes = keys.map((k) => k.subarray(8));
      const records = await this.#txs.getMany(hashes);
      const ops: Op[] = keys.map((key) => ({ type: "del", sublevel: this.#drops, key }));
      let deleted = 0;
      for (const [i, value] of records.entries()) {
        if (!value || unjson<TxRecord>(value).status !== "dropped") continue;
        ops.push({ type: "del", sublevel: this.#txs, key: hashes[i]! });
        deleted++;
      }
      await this.#db.batch(ops);
      return { scanned: keys.length, deleted };
    });
  }

  /**
   * Everything a block changes, in one atomic, synced batch: after a crash the
   * node has either all of it or none of it.
   */
  /** `sync: false` only for blocks that can be fetched again (see Chain.commit). */
  async commitBlock(c: BlockCommit, options: { sync: boolean } = { sync: true }): Promise<void> {
    const h = heightKey(c.block.header.height);
    const ops = [
      { type: "put" as const, sublevel: this.#blocks, key: h, value: c.blockBytes },
      {
        type: "put" as const,
        sublevel: this.#certs,
        key: h,
        value: encodeFinalityCertificate(c.certificate),
      },
      { type: "put" as const, sublevel: this.#hashes, key: c.blockHash, value: h },
      ...c.txHashes.map((hash, index) => ({
        type: "put" as const,
        sublevel: this.#txs,
        key: hash,
        value: json({
          status: "committed",
          height: c.block.header.height,
          index,
        } satisfies TxRecord),
      })),
      ...this.#statePuts(c.stateWrites, c.block.header.height),
      ...(c.meta ?? []).map((m) => ({
        type: "put" as const,
        sublevel: this.#meta,
        key: name(m.key),
        value: json(m.value),
      })),
      { type: "put" as const, sublevel: this.#meta, key: name("head"), value: json(c.head) },
      ...this.#staleRecords(c),
    ];
    await this.#exclusive(() => this.#db.batch(ops, { sync: options.sync }));
    for (const w of c.stateWrites) this.#nodeCache.set(w.hash, w.node);
  }

  /** Puts of state nodes, each value the node and `height` (see the module comment). */
  #statePuts(writes: readonly NodeWrite[], height: number): Op[] {
    // One buffer for all the values: LevelDB copies them, and an allocation
    // per node costs more than the copy.
    let total = 0;
    for (const w of writes) total += w.node.length + BORN_BYTES;
    const buffer = new Uint8Array(total);
    const view = new DataView(buffer.buffer);
    let at = 0;
    return writes.map((w) => {
      buffer.set(w.node, at);
      view.setUint32(at + w.node.length, height);
      const value = buffer.subarray(at, at + w.node.length + BORN_BYTES);
      at += value.length;
      return { type: "put", sublevel: this.#state, key: w.hash, value };
    });
  }

  /** The block's stale list, one record (kept only when pruning). */
  #staleRecords(c: BlockCommit): Op[] {
    const stale = c.staleNodes ?? [];
    if (this.retention.keepRecent === 0 || stale.length === 0) return [];
    const list = new Uint8Array(32 * stale.length);
    for (const [i, hash] of stale.entries()) list.set(hash, 32 * i);
    return [
      { type: "put", sublevel: this.#stale, key: heightKey(c.block.header.height), value: list },
    ];
  }

  #exclusive<T>(write: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(write);
    this.#writes = run.catch(() => undefined);
    return run;
  }

  /** State sync: a snapshot's verified nodes, born at `height`. Not synced: finishStateSync's batch is. */
  async putStateNodes(writes: readonly NodeWrite[], height: number): Promise<void> {
    await this.#exclusive(() => this.#db.batch(this.#statePuts(writes, height)));
  }

  /**
   * State sync's last step, one synced batch: the snapshot height's header
   * (kept as a dropped body's is), certificate and hash, the meta records
   * the chain reads (head, validator schedule), and the pruned record: no
   * state nor body below this height is here.
   */
  async finishStateSync(c: {
    header: BlockHeader;
    blockHash: Bytes;
    certificate: FinalityCertificate;
    head: HeadRecord;
    meta: readonly { key: string; value: unknown }[];
    /** Meta records the join kept while it ran, deleted in this batch. */
    dropMeta?: readonly string[];
    /**
     * An earlier, killed join wrote nodes of another snapshot that this one
     * may not use: a sweep (sweepState) of what was written at or before
     * this height and is not in the tree, recorded in this batch.
     */
    sweep?: number;
  }): Promise<void> {
    const h = heightKey(c.head.height);
    const pruned: PrunedRecord = {
      state: c.head.height,
      blocks: c.head.height + 1,
      headers: c.head.height,
    };
    const ops: Op[] = [
      { type: "put", sublevel: this.#headers, key: h, value: encodeBlockHeader(c.header) },
      {
        type: "put",
        sublevel: this.#certs,
        key: h,
        value: encodeFinalityCertificate(c.certificate),
      },
      { type: "put", sublevel: this.#hashes, key: c.blockHash, value: h },
      ...[...c.meta, { key: "head", value: c.head }, { key: PRUNED_META, value: pruned }].map(
        (m): Op => ({ type: "put", sublevel: this.#meta, key: name(m.key), value: json(m.value) }),
      ),
      ...(c.dropMeta ?? []).map(
        (key): Op => ({ type: "del", sublevel: this.#meta, key: name(key) }),
      ),
    ];
    const sweep = c.sweep === undefined ? this.#sweep : Math.max(this.#sweep ?? 0, c.sweep);
    if (sweep !== null)
      ops.push({ type: "put", sublevel: this.#meta, key: name(SWEEP_META), value: json(sweep) });
    await this.#exclusive(() => this.#db.batch(ops, { sync: true }));
    this.#pruned = pruned;
    this.#sweep = sweep;
  }

  /** Below these heights a prune pass may have deleted state / block bodies. */
  getPruned(): PrunedRecord {
    return this.#pruned;
  }

  async #putPruned(ops: Op[], next: PrunedRecord): Promise<void> {
    ops.push({ type: "put", sublevel: this.#meta, key: name(PRUNED_META), value: json(next) });
    await this.#db.batch(ops);
    this.#pruned = next;
  }

  /**
   * One step of pruning the state below `oldest` (the oldest height whose
   * state is kept): the stale lists of heights ≤ `oldest`, up to about
   * `limit` nodes, in one batch with the record that states below `oldest`
   * are gone. A node is deleted only if its last write is before the height
   * it went stale at (see the module comment).
   */
  pruneState(oldest: number, limit: number): Promise<PruneStepResult> {
    return this.#exclusive(async () => {
      // From the first height not known to be done: the lists before it are
      // deleted, and LevelDB would step over each tombstone until compaction
      // drops it (measured: a pass per block then cost O(all pruned so far)).
      const iterator = this.#stale.iterator({
        gte: heightKey(this.#staleDone),
        lt: heightKey(oldest + 1),
      });
      const lists: { key: Bytes; height: number; hashes: Bytes[] }[] = [];
      let nodes = 0;
      let done = true;
      try {
        for (let entry = await iterator.next(); entry; entry = await iterator.next()) {
          if (nodes >= limit) {
            done = false;
            break;
          }
          const [key, list] = entry;
          const hashes: Bytes[] = [];
          for (let at = 0; at < list.length; at += 32) hashes.push(list.subarray(at, at + 32));
          lists.push({ key, height: heightOf(key), hashes });
          nodes += hashes.length;
        }
      } finally {
        await iterator.close();
      }
      const all = lists.flatMap((l) => l.hashes);
      const values = await this.#state.getMany(all);
      const ops: Op[] = [];
      let deleted = 0;
      let i = 0;
      for (const list of lists) {
        ops.push({ type: "del", sublevel: this.#stale, key: list.key });
        for (const hash of list.hashes) {
          const value = values[i++];
          // Gone already (listed at an earlier height too), or written again since.
          if (!value || bornOf(value) >= list.height) continue;
          ops.push({ type: "del", sublevel: this.#state, key: hash });
          deleted++;
        }
      }
      const pruned = this.#pruned;
      if (pruned.state < oldest) await this.#putPruned(ops, { ...pruned, state: oldest });
      else if (ops.length > 0) await this.#db.batch(ops);
      if (done) this.#staleDone = Math.max(this.#staleDone, oldest + 1);
      return { entries: nodes, deleted, done };
    });
  }

  /**
   * Drops the bodies of up to `limit` blocks below `oldest`, from the first
   * not dropped yet, and their transactions' index entries (such a
   * transaction is then unknown here); each keeps its header and
   * certificate, which light clients and the edge verify against. One batch
   * with the new record.
   */
  pruneBlocks(oldest: number, limit: number): Promise<number> {
    return this.#exclusive(async () => {
      const pruned = this.#pruned;
      const from = Math.max(pruned.blocks, 1);
      const to = Math.min(oldest, from + limit);
      if (to <= from) return 0;
      const ops: Op[] = [];
      for (let h = from; h < to; h++) {
        const block = this.getBlock(h);
        if (!block) continue;
        const key = heightKey(h);
        ops.push({
          type: "put",
          sublevel: this.#headers,
          key,
          value: encodeBlockHeader(block.header),
        });
        ops.push({ type: "del", sublevel: this.#blocks, key });
        // Its transactions' index entries too, or they would grow without bound.
        for (const stx of block.txs)
          ops.push({ type: "del", sublevel: this.#txs, key: transactionHash(stx.tx) });
      }
      await this.#putPruned(ops, { ...pruned, blocks: to });
      return to - from;
    });
  }

  /**
   * Drops the headers, certificates and hash index entries of up to `limit`
   * heights below `oldest` (bodies already dropped: retainBlocks ≤
   * retainHeaders), from the first not dropped yet, keeping every header
   * where the validator set changes. From the last header a set signs, a
   * skipping light client trusts the next set, which signs every header up
   * to the next change: so genesis and the change headers chain by skipping
   * to any kept header (docs/operations.md#pruning). One batch with the new
   * record. Returns the headers dropped.
   */
  pruneHeaders(oldest: number, limit: number): Promise<{ scanned: number; dropped: number }> {
    return this.#exclusive(async () => {
      const pruned = this.#pruned;
      const from = Math.max(pruned.headers ?? 1, 1);
      const to = Math.min(oldest, from + limit);
      if (to <= from) return { scanned: 0, dropped: 0 };
      const ops: Op[] = [];
      let dropped = 0;
      for (let h = from; h < to; h++) {
        const key = heightKey(h);
        const raw = this.#headers.getSync(key);
        if (!raw) continue;
        const header = decodeBlockHeader(raw);
        if (!equalBytes(header.validatorsHash, header.nextValidatorsHash)) continue;
        ops.push({ type: "del", sublevel: this.#headers, key });
        ops.push({ type: "del", sublevel: this.#certs, key });
        ops.push({ type: "del", sublevel: this.#hashes, key: blockHash(header) });
        dropped++;
      }
      await this.#putPruned(ops, { ...pruned, headers: to });
      return { scanned: to - from, dropped };
    });
  }

  /**
   * The pending sweep (see the module comment), with `oldest` the oldest
   * height whose state is kept, at or above the sweep's height S: deletes
   * each state node written at or before S that is not in the tree at
   * `oldest`. Such a node is in no kept tree, since a node in a later tree
   * that was not written again since is in every tree in between. Marks
   * the tree's nodes by 64-bit hash prefix (8 bytes a node; a prefix twin
   * only keeps a node), then scans the bucket in key order, `limit` keys a
   * step; each step's deletions are one batch serialized with commits, and
   * re-read each node's height (a commit may have written it again). The
   * record goes once the scan ends. Returns the nodes deleted, or null if
   * it did not finish (stopped, or `oldest` below S: not yet).
   */
  async sweepState(oldest: number, limit: number, stopped: () => boolean): Promise<number | null> {
    const sweep = this.#sweep;
    const root = this.getHeader(oldest)?.stateRoot;
    if (sweep === null || oldest < sweep || !root) return null;
    const marks = await markedPrefixes(new SparseMerkleTree(this.stateStore), root);
    let deleted = 0;
    let marked = 0;
    let after: Bytes | undefined;
    for (;;) {
      if (stopped()) return null;
      const page = await this.#state.iterator({ ...(after && { gt: after }), limit }).all();
      if (page.length === 0) break;
      after = page.at(-1)![0];
      const candidates: Bytes[] = [];
      for (const [key, value] of page) {
        const prefix = prefixOf(key);
        while (marked < marks.length && marks[marked]! < prefix) marked++;
        if (marks[marked] !== prefix && bornOf(value) <= sweep) candidates.push(key);
      }
      if (candidates.length === 0) continue;
      deleted += await this.#exclusive(async () => {
        const now = await this.#state.getMany(candidates);
        const ops: Op[] = [];
        for (const [i, key] of candidates.entries()) {
          const value = now[i];
          if (value && bornOf(value) <= sweep)
            ops.push({ type: "del", sublevel: this.#state, key });
        }
        await this.#db.batch(ops);
        return ops.length;
      });
    }
    await this.#exclusive(() =>
      this.#db.batch([{ type: "del", sublevel: this.#meta, key: name(SWEEP_META) }], {
        sync: true,
      }),
    );
    this.#sweep = null;
    return deleted;
  }

  /** State nodes in the bucket (for tests: reads every key). */
  async stateNodeCount(): Promise<number> {
    return (await this.#state.keys().all()).length;
  }

  /** Stale nodes listed and not yet pruned (for tests: reads every list, so not for hot paths). */
  async staleEntryCount(): Promise<number> {
    let n = 0;
    for (const list of await this.#stale.values().all()) n += list.length / 32;
    return n;
  }

  /** True if the `state` bucket itself holds the node (the cache aside). */
  hasStateNode(hash: Bytes): boolean {
    return this.#state.getSync(hash) !== undefined;
  }

  /** Approximate bytes on disk per bucket (LevelDB's file-level estimate; the memtable is not counted). */
  async bucketBytes(): Promise<Record<BucketName, number>> {
    const out = {} as Record<BucketName, number>;
    // A sublevel's keys are "!name!" ‖ key; '"' follows '!'.
    for (const b of BUCKETS)
      out[b] = await this.#db.approximateSize(text.encode(`!${b}!`), text.encode(`!${b}"`));
    return out;
  }

  /**
   * Bytes of LevelDB's current tables (its estimate over every key): not the
   * log, nor files a compaction replaced that an open iterator still holds
   * (LevelDB deletes those at its next flush or compaction). Right after a
   * compaction, about what the live records take on disk.
   */
  tableBytes(): Promise<number> {
    return this.#db.approximateSize(new Uint8Array([0x00]), new Uint8Array([0xff]));
  }

  /**
   * Bytes of the records each bucket holds now (keys and values, as
   * written): what is live, whatever LevelDB's files still carry of
   * deleted or overwritten records. Reads every record: benches and tests.
   */
  async bucketLiveBytes(): Promise<Record<BucketName, number>> {
    const out = {} as Record<BucketName, number>;
    for (const b of BUCKETS) {
      let bytes = 0;
      for await (const [key, value] of this.#bucket(b).iterator())
        bytes += key.length + value.length;
      out[b] = bytes;
    }
    return out;
  }

  #bucket(b: BucketName): Bucket {
    const buckets: Record<BucketName, Bucket> = {
      blocks: this.#blocks,
      certs: this.#certs,
      hashes: this.#hashes,
      txs: this.#txs,
      state: this.#state,
      meta: this.#meta,
      signing: this.#signing,
      stale: this.#stale,
      headers: this.#headers,
      drops: this.#drops,
      chunks: this.#chunks,
    };
    return buckets[b];
  }

  /**
   * LevelDB's compactRange over the whole database: rewrites the files so
   * that deleted records give their space back now, not when LevelDB's own
   * compactions reach them. Not serialized with commits: it changes no
   * record, and LevelDB goes on taking writes (flushing the memtable first)
   * while its background thread rewrites the files.
   */
  compact(): Promise<void> {
    return this.#db.compactRange(new Uint8Array([0x00]), new Uint8Array([0xff]));
  }

  getSigningRecord(): Bytes | undefined {
    return this.#signing.getSync(name("record")) ?? undefined;
  }

  /**
   * A block the signing guard keeps (see consensus/signingGuard.ts): the one
   * this validator last proposed, or its valid value's.
   */
  getSigningBlock(which: "proposed" | "valid"): Bytes | undefined {
    return this.#signing.getSync(name(SIGNING_BLOCK_KEYS[which])) ?? undefined;
  }

  /**
   * Synced before the signature leaves the process: see consensus/signingGuard.ts.
   * The blocks it keeps are written in the same batch, as raw bytes.
   */
  putSigningRecord(
    value: Bytes,
    blocks: readonly { key: "proposed" | "valid"; bytes: Bytes }[] = [],
  ): Promise<void> {
    return this.#db.batch(
      [
        { type: "put", sublevel: this.#signing, key: name("record"), value },
        ...blocks.map((b) => ({
          type: "put" as const,
          sublevel: this.#signing,
          key: name(SIGNING_BLOCK_KEYS[b.key]),
          value: b.bytes,
        })),
      ],
      { sync: true },
    );
  }
}

function bornOf(value: Bytes): number {
  return new DataView(value.buffer, value.byteOffset, value.length).getUint32(
    value.length - BORN_BYTES,
  );
}

/** The first 8 bytes of a node hash, big-endian: the bucket's key order. */
function prefixOf(hash: Bytes): bigint {
  return new DataView(hash.buffer, hash.byteOffset, 8).getBigUint64(0);
}

/** Depth at which a sweep's mark walks the tree in parts: 2^8 subtrees, each a few ms at 10^6 accounts. */
const MARK_CUT_DEPTH = 8;

/**
 * The hash prefixes of every node of the tree at `root`, sorted (8 bytes
 * each; a node at the cut is there twice, which the merge does not mind).
 * Reads are synchronous: the walk yields to the event loop between
 * subtrees, so commits and consensus go on during a large tree's mark.
 */
async function markedPrefixes(tree: SparseMerkleTree, root: Bytes): Promise<BigUint64Array> {
  const CHUNK = 1 << 16;
  const chunks: BigUint64Array[] = [];
  let chunk = new BigUint64Array(CHUNK);
  let n = 0;
  const mark = (hash: Bytes) => {
    if (n === CHUNK) {
      chunks.push(chunk);
      chunk = new BigUint64Array(CHUNK);
      n = 0;
    }
    chunk[n++] = prefixOf(hash);
  };
  const cut: Bytes[] = [];
  tree.forEachNode(root, (hash, depth) => {
    mark(hash);
    if (depth < MARK_CUT_DEPTH) return;
    cut.push(hash.slice());
    return false;
  });
  for (const sub of cut) {
    await new Promise((resolve) => setImmediate(resolve));
    tree.forEachNode(sub, mark);
  }
  const all = new BigUint64Array(chunks.length * CHUNK + n);
  for (const [i, c] of chunks.entries()) all.set(c, i * CHUNK);
  all.set(chunk.subarray(0, n), chunks.length * CHUNK);
  return all.sort();
}

/** A drops index key: the height, then the transaction's hash (so a range by height reads the oldest first). */
function dropKey(height: number, hash: Bytes): Bytes {
  const key = new Uint8Array(8 + hash.length);
  key.set(heightKey(height));
  key.set(hash, 8);
  return key;
}

function heightOf(key: Bytes): number {
  return Number(new DataView(key.buffer, key.byteOffset, 8).getBigUint64(0));
}

/** "block" is the proposed block's key from before the valid value was kept too. */
const SIGNING_BLOCK_KEYS = { proposed: "block", valid: "validBlock" } as const;
