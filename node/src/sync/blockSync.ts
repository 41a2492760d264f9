/**
 * Block sync: a request/response protocol on a libp2p stream, so that a node
 * that was down, or joins late, catches up from its peers. Owns the protocol
 * and the catch-up loop; BlockSync is also the facade the node wires for the
 * other two stream protocols (catchUp.ts, mempoolPull.ts), which share its
 * deadlines, serving slots and penalty table (context.ts, frames.ts).
 *
 * Wire format (protocol /edgeledger/<chain>/sync/1):
 *   request   u64 from-height ‖ u32 count (count ≤ MAX_BLOCKS_PER_REQUEST)
 *   response  per block: u32 length ‖ encoded Block ‖ u32 length ‖ encoded FinalityCertificate
 *             or, from a node that dropped the bodies asked for (retainBlocks):
 *             u32 0 ‖ u32 8 ‖ u64 its oldest kept body (SYNC_PRUNED: ask another peer)
 *
 * Bounds: a block frame ≤ MAX_BLOCK_BYTES and a certificate ≤
 * MAX_CERTIFICATE_BYTES (their decode bounds); a reply ≤ MAX_SYNC_REPLY_BYTES
 * (16 MiB: the server stops before a block that would pass it, but always
 * sends at least one, and 16 MiB holds the largest block) and ≤
 * MAX_BLOCKS_PER_REQUEST blocks. Anything above is SYNC_TOO_LARGE as soon as
 * its prefix (or the running total) shows it.
 *
 * Order of checks, per block as it is read: decode (SYNC_MALFORMED), the
 * height asked (SYNC_OUT_OF_ORDER), chain id and link to the block before
 * (SYNC_BAD_BLOCK), then the finality certificate against the validator
 * set of that height (SYNC_BAD_CERTIFICATE) — cheap next to the
 * transaction signatures, and what tells real blocks from garbage. Only a
 * range whose every certificate passed goes to the worker pool for its
 * transaction signatures, as one batch (SYNC_BAD_BLOCK), and each block is
 * executed before it is committed (SYNC_BAD_BLOCK if it does not execute).
 *
 * Peers: each range is asked of one peer, the last one that served us well
 * first; a request that makes no progress for `hedgeMs` makes us ask the
 * next peer too (up to `maxParallel`), the first valid answer wins and a
 * peer that fails is replaced at once, without waiting for the others. A
 * peer at fault is reported (`misbehaved`), scored, and banned or
 * disconnected (peerPenalties.ts); banned peers are neither asked nor served.
 *
 * Long on purpose: the facade owns the range pipeline (request, verify
 * certificate, signatures, execute, commit) whose steps share one window of
 * in-flight ranges; the protocols themselves are catchUp.ts, mempoolPull.ts
 * and frames.ts.
 */
import {
  type Block,
  blockHash,
  type ConsensusMessage,
  decodeBlock,
  decodeFinalityCertificate,
  encodeFinalityCertificate,
  equalBytes,
  type FinalityCertificate,
  MAX_BLOCK_BYTES,
  MAX_VALIDATORS,
  type SignatureVerifier,
  type ValidatorSet,
  validatorSetHash,
  verifyFinalityCertificate,
} from "@edgeledger/sdk/protocol";
import type { Connection, PeerId, Stream } from "@libp2p/interface";
import type { Logger } from "pino";
import type { Chain } from "../chain/chain.ts";
import type { Database } from "../db/database.ts";
import type { Host } from "../network/host.ts";
import { catchUpFrom, serveCatchUp } from "./catchUp.ts";
import {
  createSyncContext,
  defaultSyncOptions,
  type SyncContext,
  type SyncOptions,
} from "./context.ts";
import { SyncError, type SyncErrorCode } from "./errors.ts";
import { finish, openRequest, ServingSlots, send } from "./frames.ts";
import { pullMempoolFrom, serveMempool } from "./mempoolPull.ts";
import { catchUpProtocol, mempoolProtocol, syncProtocol } from "./protocols.ts";

export type { SyncOptions } from "./context.ts";
export { catchUpProtocol, syncProtocol } from "./protocols.ts";

export const MAX_BLOCKS_PER_REQUEST = 128;
/** decodeFinalityCertificate's bound (client-sdk finalityCertificate.ts). */
export const MAX_CERTIFICATE_BYTES = 64 + MAX_VALIDATORS * 66;
export const MAX_SYNC_REPLY_BYTES = 16 * 1024 * 1024;

export interface BlockSyncDeps {
  readonly host: Host;
  readonly chain: Chain;
  readonly db: Database;
  readonly verifier: SignatureVerifier;
  readonly log: Logger;
  /** Transaction and evidence signatures of these blocks (checked as one batch). */
  readonly verifyBlockSignatures: (blocks: readonly Block[]) => Promise<boolean>;
  /** The consensus messages we hold for a height (the driver's). */
  readonly messagesFor: (height: number) => readonly ConsensusMessage[];
  /** Checks a consensus message as gossip does, and hands it on when accepted. */
  /** Returns false when the message fails the gossip rules (the peer that served it is at fault). */
  readonly acceptConsensus: (data: Uint8Array) => boolean;
  /** Our oldest pending transactions' bytes (bounded), for peers. */
  readonly pendingTxs: () => readonly Uint8Array[];
  /** Admits a peer's pending transactions as gossip would. */
  readonly acceptTxs: (txs: readonly Uint8Array[]) => Promise<void>;
  /**
   * Called for every fault attributable to `peer` (for peer scoring). The
   * local ban list and disconnects apply whether or not it is given.
   */
  readonly misbehaved?: (peer: PeerId, code: SyncErrorCode) => void;
  /** haltHeight: block sync commits no block above it (unset: no limit). */
  readonly lastHeight?: number;
}

interface SyncedBlock {
  readonly block: Block;
  readonly certificate: FinalityCertificate;
  readonly hash: Uint8Array;
  /** The set the certificate was verified against. */
  readonly validators: ValidatorSet;
}

interface Range {
  readonly peer: PeerId;
  readonly blocks: readonly SyncedBlock[];
}

/** validatorSetHash, remembered per set object (the chain hands out the same objects). */
const setHashes = new WeakMap<ValidatorSet, Uint8Array>();
function setHash(set: ValidatorSet): Uint8Array {
  let h = setHashes.get(set);
  if (!h) {
    h = validatorSetHash(set);
    setHashes.set(set, h);
  }
  return h;
}

export class BlockSync {
  readonly #deps: BlockSyncDeps;
  readonly #ctx: SyncContext;
  readonly #slots: { sync: ServingSlots; catchup: ServingSlots; mempool: ServingSlots };
  readonly #stop = new AbortController();
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  /** The peer that served the last good range: asked first next time. */
  #lastGood: string | null = null;
  /** The highest block a peer served us with a valid certificate (see bestPeerHeight). */
  #bestPeerHeight = 0;

  constructor(deps: BlockSyncDeps, options: Partial<SyncOptions> = {}) {
    this.#deps = deps;
    const o = { ...defaultSyncOptions, ...options };
    this.#ctx = createSyncContext(deps.host, deps.chain.chainId, o, deps.log, deps.misbehaved);
    this.#slots = {
      sync: new ServingSlots(o.maxServing),
      catchup: new ServingSlots(o.maxServing),
      mempool: new ServingSlots(o.maxServing),
    };
  }

  /**
   * The highest block a peer has shown us, certificate verified (so a peer
   * cannot inflate it): how far behind block sync knows this node to be.
   * A range is at most MAX_BLOCKS_PER_REQUEST, so while far behind it is a
   * lower bound, one or two ranges ahead of the head.
   */
  get bestPeerHeight(): number {
    return this.#bestPeerHeight;
  }

  /** Streams being served now, all protocols (tests check that stalled clients free them). */
  get serving(): number {
    return this.#slots.sync.active + this.#slots.catchup.active + this.#slots.mempool.active;
  }

  async start(): Promise<void> {
    const { host, chain } = this.#deps;
    const limits = { maxInboundStreams: 2 };
    // A banned peer is served by no protocol: one rule, here, for all three.
    const unlessBanned =
      (serve: (stream: Stream) => Promise<void>) => (stream: Stream, connection: Connection) =>
        this.#ctx.penalties.isBanned(connection.remotePeer.toString())
          ? stream.abort(new Error("banned"))
          : serve(stream);
    await host.handle(
      syncProtocol(chain.chainId),
      unlessBanned((s) => this.#serve(s)),
      limits,
    );
    await host.handle(
      catchUpProtocol(chain.chainId),
      unlessBanned((s) => serveCatchUp(this.#ctx, this.#slots.catchup, this.#deps.messagesFor, s)),
      limits,
    );
    await host.handle(
      mempoolProtocol(chain.chainId),
      unlessBanned((s) => serveMempool(this.#ctx, this.#slots.mempool, this.#deps.pendingTxs, s)),
      limits,
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stop.abort(new Error("block sync stopping"));
    await this.#running;
    const { host, chain } = this.#deps;
    for (const p of [syncProtocol, catchUpProtocol, mempoolProtocol])
      await host.unhandle(p(chain.chainId)).catch(() => undefined);
  }

  /** Asks every peer we trust for its pending transactions and admits them. */
  async pullMempool(): Promise<void> {
    await Promise.all(
      this.#ctx.candidates().map(async (peer) => {
        try {
          const txs = await pullMempoolFrom(this.#ctx, peer);
          if (txs.length > 0) await this.#deps.acceptTxs(txs);
        } catch (err) {
          this.#ctx.report(peer, err, "mempool pull");
        }
      }),
    );
  }

  /** Asks every peer we trust for the consensus messages of the height we are deciding. */
  async catchUp(): Promise<void> {
    const height = this.#deps.chain.head.height + 1;
    await Promise.all(
      this.#ctx.candidates().map(async (peer) => {
        try {
          await catchUpFrom(this.#ctx, peer, height, this.#deps.acceptConsensus);
        } catch (err) {
          this.#ctx.report(peer, err, "consensus catch-up");
        }
      }),
    );
  }

  /** Serves blocks from our store; never more than asked or than the reply bound, never beyond our head. */
  async #serve(stream: Stream): Promise<void> {
    const { db } = this.#deps;
    await this.#slots.sync.serve(
      stream,
      this.#ctx.options.serveDeadlines,
      "block sync",
      async (reader, deadline) => {
        const request = await reader.read(12);
        if (request === null) throw SyncError.malformed("an empty sync request");
        await reader.end();
        const view = new DataView(request.buffer);
        const from = Number(view.getBigUint64(0));
        const count = Math.min(view.getUint32(8), MAX_BLOCKS_PER_REQUEST);
        const oldest = db.oldestBlock(this.#deps.chain.head.height);
        if (from < oldest) return send(stream, prunedReply(oldest), deadline);
        let total = 0;
        for (let h = from; h < from + count; h++) {
          const block = db.getBlockBytes(h);
          const cert = db.getCertificate(h);
          if (!block || !cert) break;
          const certBytes = encodeFinalityCertificate(cert);
          const frame = new Uint8Array(8 + block.length + certBytes.length);
          if (total > 0 && total + frame.length > MAX_SYNC_REPLY_BYTES) break;
          total += frame.length;
          const fv = new DataView(frame.buffer);
          fv.setUint32(0, block.length);
          frame.set(block, 4);
          fv.setUint32(4 + block.length, certBytes.length);
          frame.set(certBytes, 8 + block.length);
          await send(stream, frame, deadline);
        }
      },
      12,
    );
  }

  /**
   * Catches up from connected peers until none has a next block. Safe to call
   * often: one run at a time, and a call during a run makes it go once more.
   */
  trigger(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#run()
      .catch((err: unknown) => this.#deps.log.warn({ err }, "block sync run failed"))
      .finally(() => {
        this.#running = null;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.trigger();
        }
      });
  }

  /** Resolves once no run is in progress (nor asked for). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /**
   * Fetches and applies ranges until no peer has a block after our head.
   * Pipelined: the next range is fetched, checked and its transaction
   * signatures verified on the worker pool while this one executes and
   * commits on the main thread, so a node far behind pays roughly the larger
   * of the two, not their sum.
   */
  async #run(): Promise<void> {
    const { chain } = this.#deps;
    let prefetch = this.#prefetch(chain.head.height + 1, chain.head.hash);
    for (;;) {
      if (this.#stopped) return prefetch.cancel();
      const range = await prefetch.result;
      if (!range) return;
      if (range.blocks.length === 0) {
        // The first block's validator set was not known yet when it was read
        // (a change inside the previous range): ask again from the head.
        const head = chain.head;
        prefetch = this.#prefetch(head.height + 1, head.hash);
        const again = await prefetch.result;
        if (!again || again.blocks.length === 0) return;
        prefetch = { result: Promise.resolve(again), cancel: () => undefined };
        continue;
      }
      const last = range.blocks[range.blocks.length - 1]!;
      prefetch = this.#prefetch(last.block.header.height + 1, last.hash);
      for (const [i, item] of range.blocks.entries()) {
        // haltHeight: nothing above it (the prefetch past it resolves null, which ends the run).
        if (item.block.header.height > (this.#deps.lastHeight ?? Number.POSITIVE_INFINITY)) break;
        let applied: boolean;
        try {
          // Synced to disk at the end of each range only: a crash loses at most
          // the unsynced tail, which is final and fetched again (never a partial block).
          applied = await this.#apply(item, i === range.blocks.length - 1);
        } catch (err) {
          this.#ctx.report(range.peer, err, "block sync");
          applied = false;
        }
        if (!applied) {
          // Our head moved meanwhile (consensus or another peer), or the block was bad: start over from the head.
          prefetch.cancel();
          prefetch = this.#prefetch(chain.head.height + 1, chain.head.hash);
          break;
        }
      }
    }
  }

  #prefetch(from: number, parent: Uint8Array): { result: Promise<Range | null>; cancel(): void } {
    if (from > (this.#deps.lastHeight ?? Number.POSITIVE_INFINITY))
      return { result: Promise.resolve(null), cancel: () => undefined };
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, this.#stop.signal]);
    const result = this.#fetchFromAny(from, parent, signal);
    // A prefetch we drop must not surface as an unhandled rejection.
    result.then(
      (range) => {
        const last = range?.blocks.at(-1)?.block.header.height ?? 0;
        if (last > this.#bestPeerHeight) this.#bestPeerHeight = last;
      },
      () => undefined,
    );
    return { result, cancel: () => controller.abort(new Error("range no longer wanted")) };
  }

  /** Candidates, the last good peer first. */
  #ordered(): PeerId[] {
    const peers = this.#ctx.candidates();
    const i = peers.findIndex((p) => p.toString() === this.#lastGood);
    if (i > 0) peers.unshift(...peers.splice(i, 1));
    return peers;
  }

  /**
   * One range from whichever peer answers it first with valid blocks (see
   * the module comment); null if every peer we may ask has nothing after `from`.
   */
  #fetchFromAny(from: number, parent: Uint8Array, signal: AbortSignal): Promise<Range | null> {
    const { hedgeMs, maxParallel } = this.#ctx.options;
    const peers = this.#ordered();
    const attempts = new Map<
      string,
      { controller: AbortController; progressed: boolean; lost: boolean }
    >();
    let next = 0;
    let active = 0;
    let settled = false;
    let hedge: ReturnType<typeof setTimeout> | undefined;
    return new Promise<Range | null>((resolve) => {
      const settle = (range: Range | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(hedge);
        signal.removeEventListener("abort", onAbort);
        for (const a of attempts.values()) {
          // Losers that are sending are cut off; silent ones run into their
          // deadline, so a stalling peer is still found out and scored.
          if (a.progressed) a.controller.abort(new Error("another peer answered first"));
          else a.lost = true;
        }
        resolve(range);
      };
      const onAbort = () => {
        for (const a of attempts.values()) a.controller.abort(signal.reason);
        settle(null);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const armHedge = () => {
        clearTimeout(hedge);
        hedge = setTimeout(() => {
          if (!settled && active < maxParallel && launch()) armHedge();
        }, hedgeMs);
      };
      const launch = (): boolean => {
        const peer = peers[next++];
        if (!peer) {
          if (active === 0) settle(null);
          return false;
        }
        if (this.#ctx.penalties.isBanned(peer.toString())) return launch();
        const attempt = { controller: new AbortController(), progressed: false, lost: false };
        attempts.set(peer.toString(), attempt);
        active++;
        const onProgress = () => {
          attempt.progressed = true;
          if (attempt.lost) attempt.controller.abort(new Error("another peer answered first"));
          else if (!settled) armHedge();
        };
        this.#fetchRange(peer, from, parent, attempt.controller.signal, onProgress).then(
          (blocks) => {
            active--;
            if (settled) return;
            if (blocks !== null) {
              this.#lastGood = peer.toString();
              settle({ peer, blocks });
            } else if (active === 0) launch(); // it has nothing after `from`: ask the next one
          },
          (err: unknown) => {
            active--;
            if (!attempt.controller.signal.aborted || attempt.lost)
              this.#ctx.report(peer, err, "block sync");
            if (!settled && active < maxParallel) launch();
          },
        );
        return true;
      };
      if (signal.aborted) return onAbort();
      launch();
      armHedge();
    });
  }

  /**
   * Asks `peer` for up to MAX_BLOCKS_PER_REQUEST blocks from `from` (whose
   * parent is `parent`) and checks them as they arrive (see the module
   * comment). Null if the peer has none; an empty array if the first block's
   * validator set is not known yet; otherwise the checked prefix it sent.
   */
  async #fetchRange(
    peer: PeerId,
    from: number,
    parent: Uint8Array,
    signal: AbortSignal,
    onProgress: () => void,
  ): Promise<SyncedBlock[] | null> {
    const { chain, verifier } = this.#deps;
    const request = new Uint8Array(12);
    const view = new DataView(request.buffer);
    view.setBigUint64(0, BigInt(from));
    view.setUint32(8, MAX_BLOCKS_PER_REQUEST);
    const exchange = await openRequest(
      this.#deps.host,
      peer,
      syncProtocol(chain.chainId),
      request,
      {
        deadlines: this.#ctx.options.requestDeadlines,
        limit: MAX_SYNC_REPLY_BYTES,
        what: "block sync",
        signal,
      },
    );
    const received: SyncedBlock[] = [];
    let cut = false;
    try {
      for (let previous = parent; ; ) {
        const blockBytes = await exchange.reader.frame(MAX_BLOCK_BYTES, "A block");
        if (blockBytes === null) break;
        if (blockBytes.length === 0 && received.length === 0)
          throw SyncError.pruned(from, await readOldest(exchange.reader));
        onProgress();
        if (received.length === MAX_BLOCKS_PER_REQUEST)
          throw SyncError.tooLarge(
            "The reply's block count",
            received.length + 1,
            MAX_BLOCKS_PER_REQUEST,
          );
        const certBytes = await exchange.reader.frame(MAX_CERTIFICATE_BYTES, "A certificate");
        if (certBytes === null) throw SyncError.malformed("a block without its certificate");
        let block: Block;
        let certificate: FinalityCertificate;
        try {
          block = decodeBlock(blockBytes);
          certificate = decodeFinalityCertificate(certBytes);
        } catch (cause) {
          throw SyncError.malformed("bytes that are not a block and its certificate", { cause });
        }
        const height = block.header.height;
        if (height !== from + received.length)
          throw new SyncError("SYNC_OUT_OF_ORDER", "The peer sent a block of another height.", {
            details: { expected: from + received.length, got: height },
          });
        if (
          block.header.chainId !== chain.chainId ||
          !equalBytes(block.header.parentHash, previous)
        )
          throw new SyncError("SYNC_BAD_BLOCK", "The block does not extend the chain asked for.", {
            details: { height },
          });
        const validators = chain.validatorsAt(height);
        if (!equalBytes(setHash(validators), block.header.validatorsHash)) {
          // Known for sure up to head + 2; beyond, a change inside this range may not have executed yet.
          if (height <= chain.head.height + 2)
            throw new SyncError("SYNC_BAD_BLOCK", "The block names another validator set.", {
              details: { height },
            });
          cut = true;
          break;
        }
        const hash = blockHash(block.header);
        try {
          await verifyFinalityCertificate(
            certificate,
            { chainId: chain.chainId, height, blockHash: hash, validators },
            verifier,
          );
        } catch (cause) {
          throw new SyncError(
            "SYNC_BAD_CERTIFICATE",
            "The block's finality certificate is invalid.",
            {
              details: { height },
              cause,
            },
          );
        }
        received.push({ block, certificate, hash, validators });
        previous = hash;
      }
      finish(exchange, cut ? new Error("range cut at an unknown validator set") : undefined);
    } catch (err) {
      finish(exchange, err);
      throw err;
    }
    if (received.length === 0) return cut ? [] : null;
    // Every transaction signature of the range in one batch, now that every
    // certificate in it passed: the workers run in parallel and the per-call
    // overhead is paid once, not once per block.
    if (!(await this.#deps.verifyBlockSignatures(received.map((r) => r.block))))
      throw new SyncError(
        "SYNC_BAD_BLOCK",
        "A synced block has a bad transaction or evidence signature.",
      );
    return received;
  }

  /** Commits one checked block; false if it is not the block after our head. */
  async #apply(item: SyncedBlock, durable: boolean): Promise<boolean> {
    const { chain, verifier } = this.#deps;
    const { block, certificate, hash } = item;
    const height = block.header.height;
    if (height !== chain.head.height + 1) return false;
    const validators = chain.validatorsAt(height);
    if (validators !== item.validators)
      // The schedule changed since the range was read: check the certificate again.
      await verifyFinalityCertificate(
        certificate,
        { chainId: chain.chainId, height, blockHash: hash, validators },
        verifier,
      ).catch((cause: unknown) => {
        throw new SyncError(
          "SYNC_BAD_CERTIFICATE",
          "The block's finality certificate is invalid.",
          {
            details: { height },
            cause,
          },
        );
      });
    let exec: Awaited<ReturnType<Chain["executeBlock"]>>;
    try {
      exec = await chain.executeBlock(block);
    } catch (cause) {
      if (chain.head.height >= height) return false;
      throw new SyncError("SYNC_BAD_BLOCK", "A certified block does not execute.", {
        details: { height },
        cause,
      });
    }
    try {
      await chain.commit(exec, certificate, { durable });
    } catch (err) {
      // Consensus committed this height while we executed it: the same final block.
      if (chain.head.height >= height) return false;
      throw err;
    }
    return true;
  }
}

/** The refusal of a node that dropped the bodies asked for (see the module comment). */
function prunedReply(oldest: number): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint32(4, 8);
  v.setBigUint64(8, BigInt(oldest));
  return out;
}

async function readOldest(reader: {
  frame(bound: number, what: string): Promise<Uint8Array | null>;
}): Promise<number> {
  const bytes = await reader.frame(8, "A pruned reply's height");
  if (bytes === null || bytes.length !== 8) throw SyncError.malformed("a truncated pruned reply");
  return Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0));
}
