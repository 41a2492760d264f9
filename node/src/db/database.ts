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
 *   state    state-tree node hash   → node bytes (content-addressed, never overwritten)
 *   meta     name                   → JSON (head, genesis)
 *   signing  "record"               → what this validator signed (see consensus/signingGuard.ts)
 */
import {
  type Block,
  decodeBlock,
  decodeFinalityCertificate,
  encodeFinalityCertificate,
  type FinalityCertificate,
  type NodeStore,
  type NodeWrite,
} from "@edgeledger/sdk/protocol";
import { ClassicLevel } from "classic-level";
import { DEFAULT_NODE_CACHE_BYTES, NodeCache } from "./nodeCache.ts";

type Bytes = Uint8Array;
const OPTS = { keyEncoding: "view", valueEncoding: "view" } as const;
function openBucket(db: ClassicLevel<Bytes, Bytes>, bucketName: string) {
  return db.sublevel<Bytes, Bytes>(bucketName, OPTS);
}
type Bucket = ReturnType<typeof openBucket>;

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

export interface BlockCommit {
  readonly block: Block;
  readonly blockBytes: Bytes;
  readonly blockHash: Bytes;
  readonly certificate: FinalityCertificate;
  readonly txHashes: readonly Bytes[];
  readonly stateWrites: readonly NodeWrite[];
  readonly head: HeadRecord;
  /** Meta records that change with this block (e.g. the validator-set schedule). */
  readonly meta?: readonly { key: string; value: unknown }[];
}

export class Database {
  readonly #db: ClassicLevel<Bytes, Bytes>;
  readonly #blocks: Bucket;
  readonly #certs: Bucket;
  readonly #hashes: Bucket;
  readonly #txs: Bucket;
  readonly #state: Bucket;
  readonly #meta: Bucket;
  readonly #signing: Bucket;

  /**
   * State-tree nodes are immutable (content-addressed), so a cache of them
   * can never be stale. It keeps the upper levels, which every read walks,
   * out of LevelDB; bounded in bytes (see nodeCache.ts).
   */
  readonly #nodeCache: NodeCache;

  constructor(path: string, options: { nodeCacheBytes?: number } = {}) {
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
      ].map((b) => b.open()),
    );
  }

  close(): Promise<void> {
    return this.#db.close();
  }

  /** The state tree's view of the `state` bucket. Reads are synchronous (getSync). */
  readonly stateStore: NodeStore = {
    get: (hash) => {
      const hit = this.#nodeCache.get(hash);
      if (hit) return hit;
      const node = this.#state.getSync(hash) ?? undefined;
      if (node) this.#nodeCache.set(hash, node);
      return node;
    },
  };

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
        ...extraState.map((w) => ({
          type: "put" as const,
          sublevel: this.#state,
          key: w.hash,
          value: w.node,
        })),
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

  async recordDropped(entries: readonly { hash: Bytes; record: TxRecord }[]): Promise<void> {
    // A drop never overwrites a commit: the same transaction can be on chain
    // (committed through another path) and dropped from a stale mempool copy.
    const fresh = entries.filter((e) => this.getTx(e.hash)?.status !== "committed");
    if (fresh.length === 0) return;
    await this.#db.batch(
      fresh.map((e) => ({
        type: "put" as const,
        sublevel: this.#txs,
        key: e.hash,
        value: json(e.record),
      })),
    );
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
      ...c.stateWrites.map((w) => ({
        type: "put" as const,
        sublevel: this.#state,
        key: w.hash,
        value: w.node,
      })),
      ...(c.meta ?? []).map((m) => ({
        type: "put" as const,
        sublevel: this.#meta,
        key: name(m.key),
        value: json(m.value),
      })),
      { type: "put" as const, sublevel: this.#meta, key: name("head"), value: json(c.head) },
    ];
    await this.#db.batch(ops, { sync: options.sync });
    for (const w of c.stateWrites) this.#nodeCache.set(w.hash, w.node);
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

/** "block" is the proposed block's key from before the valid value was kept too. */
const SIGNING_BLOCK_KEYS = { proposed: "block", valid: "validBlock" } as const;
