/**
 * The state sync protocol's streams (/edgeledger/<chain>/statesync/1): the
 * serving side, which answers from the snapshots this node keeps, and the
 * requesting side, which reads a reply within its bounds and deadlines. The
 * formats and checks are chunks.ts; what to ask whom is join.ts.
 */
import {
  encodeBlockHeader,
  encodeFinalityCertificate,
  encodeValidatorSet,
  type SparseMerkleTree,
  type ValidatorSet,
} from "@edgeledger/sdk/protocol";
import type { Connection, PeerId, Stream } from "@libp2p/interface";
import type { Database } from "../db/database.ts";
import type { SyncContext } from "../sync/context.ts";
import { SyncError } from "../sync/errors.ts";
import { finish, frame, openRequest, ServingSlots, send } from "../sync/frames.ts";
import { stateSyncProtocol } from "../sync/protocols.ts";
import { readChunkLeaves } from "./chunkLeaves.ts";
import {
  decodeRequest,
  encodeChunk,
  encodeManifest,
  encodeRequest,
  encodeSnapshotList,
  MAX_CHUNK_BYTES,
  MAX_HEADER_FRAME_BYTES,
  MAX_LIST_BYTES,
  MAX_MANIFEST_BYTES,
  MAX_REQUEST_BYTES,
  type StateSyncRequest,
} from "./chunks.ts";
import type { Snapshots } from "./snapshots.ts";

export interface StateSyncServeDeps {
  readonly ctx: SyncContext;
  readonly db: Database;
  readonly tree: SparseMerkleTree;
  /** What the server reads of the snapshots (tests serve a chosen few). */
  readonly snapshots: Pick<Snapshots, "list" | "at" | "exported">;
  readonly validatorsAt: (height: number) => ValidatorSet;
  /** This node's genesis state root (a joining node checks it against header 1 and skips the genesis build). */
  readonly genesisRoot: Uint8Array;
  /** The test build's seam (hooks.ts stateSyncChunk); the identity otherwise. */
  readonly wrapChunk?: (chunk: Uint8Array) => Uint8Array;
}

/** Serves the protocol: at most `maxServing` streams at once, each within the serve deadlines. */
export class StateSyncServer {
  readonly #deps: StateSyncServeDeps;
  readonly #slots: ServingSlots;

  constructor(deps: StateSyncServeDeps) {
    this.#deps = deps;
    this.#slots = new ServingSlots(deps.ctx.options.maxServing);
  }

  async start(): Promise<void> {
    const { ctx } = this.#deps;
    await ctx.host.handle(
      stateSyncProtocol(ctx.chainId),
      (stream: Stream, connection: Connection) =>
        ctx.penalties.isBanned(connection.remotePeer.toString())
          ? stream.abort(new Error("banned"))
          : this.#serve(stream),
      { maxInboundStreams: 2 },
    );
  }

  async stop(): Promise<void> {
    const { ctx } = this.#deps;
    await ctx.host.unhandle(stateSyncProtocol(ctx.chainId)).catch(() => undefined);
  }

  async #serve(stream: Stream): Promise<void> {
    await this.#slots.serve(
      stream,
      this.#deps.ctx.options.serveDeadlines,
      "state sync",
      async (reader, deadline) => {
        const bytes = await reader.read(1);
        if (bytes === null) throw SyncError.malformed("an empty state sync request");
        const rest = [1, 9, 10, 14, 1][bytes[0]!] ?? 1;
        const tail = rest > 1 ? await reader.read(rest - 1) : new Uint8Array();
        if (tail === null) throw SyncError.malformed("a truncated state sync request");
        await reader.end();
        const request = decodeRequest(new Uint8Array([...bytes, ...tail]));
        for (const f of await this.reply(request)) await send(stream, frame(f), deadline);
      },
      MAX_REQUEST_BYTES,
    );
  }

  /** The reply's frames; one empty frame when this node does not keep what was asked. */
  async reply(r: StateSyncRequest): Promise<Uint8Array[]> {
    const { db, tree, snapshots, validatorsAt } = this.#deps;
    const none = [new Uint8Array()];
    if (r.kind === "list") return [encodeSnapshotList(snapshots.list())];
    if (r.kind === "genesis") return [this.#deps.genesisRoot];
    if (r.kind === "header") {
      const header = db.getHeader(r.height);
      const certificate = db.getCertificate(r.height);
      if (!header || !certificate) return none;
      return [
        encodeBlockHeader(header),
        encodeFinalityCertificate(certificate),
        encodeValidatorSet(validatorsAt(r.height)),
        encodeValidatorSet(validatorsAt(r.height + 1)),
      ];
    }
    const snapshot = snapshots.at(r.height);
    // Only the cut the list advertises: what a joiner asks for. Another cut
    // would be a hostile peer's way to make this node walk the whole tree
    // for one request (depth 0 is the whole state: ~10^6 random reads and
    // as many nodes held at 10^6 accounts, before the size bound could tell).
    if (!snapshot || r.depth !== snapshot.depth) return none;
    if (r.kind === "manifest") return [encodeManifest(tree.frontier(snapshot.stateRoot, r.depth))];
    const wrap = (chunk: Uint8Array) => [this.#deps.wrapChunk?.(chunk) ?? chunk];
    // Written once after the snapshot was taken (snapshots.ts): one read.
    if (snapshots.exported(r.height)) {
      const stored = await db.getSnapshotChunk(r.height, r.index);
      if (stored) return wrap(stored);
    }
    // Not written yet: off the event loop, a level of the subtree at a time (chunkLeaves.ts).
    const leaves = await readChunkLeaves(db, snapshot.stateRoot, r.depth, r.index, MAX_CHUNK_BYTES);
    // Beyond what a receiver reads: a deeper cut (more, smaller chunks) serves this state.
    if (leaves === null) return none;
    const chunk = encodeChunk({ height: r.height, depth: r.depth, index: r.index, leaves });
    if (chunk.length > MAX_CHUNK_BYTES) return none;
    return wrap(chunk);
  }
}

/** Each request's reply: its frames' bounds and the reply's total. */
const REPLY_BOUNDS: Record<StateSyncRequest["kind"], readonly number[]> = {
  list: [MAX_LIST_BYTES],
  genesis: [32],
  header: [
    MAX_HEADER_FRAME_BYTES,
    MAX_HEADER_FRAME_BYTES,
    MAX_HEADER_FRAME_BYTES,
    MAX_HEADER_FRAME_BYTES,
  ],
  manifest: [MAX_MANIFEST_BYTES],
  chunk: [MAX_CHUNK_BYTES],
};

/**
 * Asks `peer`; the reply's frames, each read within its bound. A reply that
 * says the peer does not keep it is SYNC_PRUNED (no penalty); one that ends
 * early is SYNC_MALFORMED.
 */
export async function requestStateSync(
  ctx: SyncContext,
  peer: PeerId,
  request: StateSyncRequest,
  signal?: AbortSignal,
): Promise<Uint8Array[]> {
  const bounds = REPLY_BOUNDS[request.kind];
  const limit = bounds.reduce((a, b) => a + b + 4, 0);
  const exchange = await openRequest(
    ctx.host,
    peer,
    stateSyncProtocol(ctx.chainId),
    encodeRequest(request),
    {
      deadlines: ctx.options.requestDeadlines,
      limit,
      what: "state sync",
      ...(signal && { signal }),
    },
  );
  try {
    const frames: Uint8Array[] = [];
    for (const bound of bounds) {
      const f = await exchange.reader.frame(bound, `A state sync ${request.kind} reply`);
      if (f === null) throw SyncError.malformed(`a ${request.kind} reply that ends early`);
      if (f.length === 0 && frames.length === 0)
        throw new SyncError(
          "SYNC_PRUNED",
          `The peer keeps no ${request.kind} for that height: ask another peer.`,
          {
            details: { request: request.kind },
          },
        );
      frames.push(f);
    }
    await exchange.reader.end();
    finish(exchange);
    return frames;
  } catch (err) {
    finish(exchange, err);
    throw err;
  }
}
