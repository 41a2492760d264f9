/**
 * Block sync: a request/response protocol on a libp2p stream, so that a node
 * that was down, or joins late, catches up from its peers. Owns the protocol
 * and the catch-up loop; every block is checked as it arrives — it must
 * extend our head, carry a valid finality certificate from the validator
 * set of its height, and execute to the state root its header claims —
 * before it is committed. A peer that sends anything else is dropped.
 *
 * Wire format (protocol /edgeledger/<chain>/sync/1):
 *   request   u64 from-height ‖ u32 count (count ≤ MAX_BLOCKS_PER_REQUEST)
 *   response  per block: u32 length ‖ encoded Block ‖ u32 length ‖ encoded FinalityCertificate
 *
 * Consensus catch-up (protocol /edgeledger/<chain>/catchup/1): gossip only
 * reaches peers that are connected when a message is sent, so a validator
 * that (re)joins in the middle of a height asks its peers for the proposals
 * and votes they hold for it, and checks each like a gossiped one.
 *   request   u64 height
 *   response  per message: u32 length ‖ encoded ConsensusMessage
 *
 * Mempool pull (protocol /edgeledger/<chain>/mempool/1): likewise for pending
 * transactions — one sent to a node before its gossip mesh formed would
 * otherwise reach the others only in that node's own proposals.
 *   request   (empty)
 *   response  per transaction: u32 length ‖ encoded SignedTransaction
 */
import {
  type Block,
  blockHash,
  type ConsensusMessage,
  concatBytes,
  decodeBlock,
  decodeFinalityCertificate,
  encodeConsensusMessage,
  encodeFinalityCertificate,
  type FinalityCertificate,
  type SignatureVerifier,
  verifyFinalityCertificate,
} from "@edgeledger/sdk/protocol";
import type { Connection, PeerId, Stream } from "@libp2p/interface";
import type { Logger } from "pino";
import type { Chain } from "../chain/chain.ts";
import type { Database } from "../db/database.ts";
import type { Host } from "../network/host.ts";

export const MAX_BLOCKS_PER_REQUEST = 128;
/** A response is cut off (and the peer distrusted) beyond this. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

export function syncProtocol(chainId: string): string {
  return `/edgeledger/${chainId}/sync/1`;
}

export function catchUpProtocol(chainId: string): string {
  return `/edgeledger/${chainId}/catchup/1`;
}

/** Writes each item as u32 length ‖ bytes, waiting for the stream to drain when it asks. */
async function sendFrames(stream: Stream, items: readonly Uint8Array[]): Promise<void> {
  for (const item of items) {
    const frame = new Uint8Array(4 + item.length);
    new DataView(frame.buffer).setUint32(0, item.length);
    frame.set(item, 4);
    if (!stream.send(frame))
      await new Promise((r) => stream.addEventListener("drain", r, { once: true }));
  }
}

/** Splits u32-length-prefixed frames; throws on a truncated one. */
function readFrames(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at < data.length; ) {
    if (at + 4 > data.length) throw new Error("truncated frame");
    const length = view.getUint32(at);
    if (at + 4 + length > data.length) throw new Error("truncated frame");
    out.push(data.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}

async function readAll(stream: Stream, limit: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
    size += bytes.length;
    if (size > limit) throw new Error("sync message too large");
    parts.push(bytes);
  }
  return concatBytes(...parts);
}

export interface BlockSyncDeps {
  readonly host: Host;
  readonly chain: Chain;
  readonly db: Database;
  readonly verifier: SignatureVerifier;
  readonly log: Logger;
  /** Checks every transaction signature of a block (the verifier pool). */
  /** Transaction and evidence signatures of these blocks (checked as one batch). */
  readonly verifyBlockSignatures: (blocks: readonly Block[]) => Promise<boolean>;
  /** The consensus messages we hold for a height (the driver's). */
  readonly messagesFor: (height: number) => readonly ConsensusMessage[];
  /** Checks a consensus message as gossip does, and hands it on when accepted. */
  readonly acceptConsensus: (data: Uint8Array) => void;
  /** Our oldest pending transactions' bytes (bounded), for peers. */
  readonly pendingTxs: () => readonly Uint8Array[];
  /** Admits a peer's pending transactions as gossip would. */
  readonly acceptTxs: (txs: readonly Uint8Array[]) => Promise<void>;
}

export class BlockSync {
  readonly #deps: BlockSyncDeps;
  readonly #protocol: string;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(deps: BlockSyncDeps) {
    this.#deps = deps;
    this.#protocol = syncProtocol(deps.chain.chainId);
  }

  async start(): Promise<void> {
    await this.#deps.host.handle(
      this.#protocol,
      (stream, connection) => this.#serve(stream, connection),
      {
        maxInboundStreams: 4,
      },
    );
    await this.#deps.host.handle(this.#catchUpProtocol, (stream) => this.#serveCatchUp(stream), {
      maxInboundStreams: 4,
    });
    await this.#deps.host.handle(this.#mempoolProtocol, (stream) => this.#serveMempool(stream), {
      maxInboundStreams: 4,
    });
  }

  get #mempoolProtocol(): string {
    return `/edgeledger/${this.#deps.chain.chainId}/mempool/1`;
  }

  async #serveMempool(stream: Stream): Promise<void> {
    try {
      await readAll(stream, 0);
      await sendFrames(stream, this.#deps.pendingTxs());
      await stream.close();
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Asks every connected peer for its pending transactions and admits them. */
  async pullMempool(): Promise<void> {
    const { host, log, acceptTxs } = this.#deps;
    await Promise.all(
      host.getPeers().map(async (peer) => {
        try {
          const stream = await host.dialProtocol(peer, this.#mempoolProtocol, {
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          await stream.close();
          await acceptTxs(readFrames(await readAll(stream, MAX_RESPONSE_BYTES)));
        } catch (err) {
          log.debug({ err, peer: peer.toString() }, "mempool pull from peer failed");
        }
      }),
    );
  }

  get #catchUpProtocol(): string {
    return catchUpProtocol(this.#deps.chain.chainId);
  }

  async #serveCatchUp(stream: Stream): Promise<void> {
    try {
      const request = await readAll(stream, 8);
      if (request.length !== 8) throw new Error("bad catch-up request");
      const height = Number(new DataView(request.buffer, request.byteOffset, 8).getBigUint64(0));
      await sendFrames(stream, this.#deps.messagesFor(height).map(encodeConsensusMessage));
      await stream.close();
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Asks every connected peer for the consensus messages of the height we are deciding. */
  async catchUp(): Promise<void> {
    const { host, chain, log, acceptConsensus } = this.#deps;
    const height = chain.head.height + 1;
    await Promise.all(
      host.getPeers().map(async (peer) => {
        try {
          const stream = await host.dialProtocol(peer, this.#catchUpProtocol, {
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          const request = new Uint8Array(8);
          new DataView(request.buffer).setBigUint64(0, BigInt(height));
          stream.send(request);
          await stream.close();
          for (const frame of readFrames(await readAll(stream, MAX_RESPONSE_BYTES)))
            acceptConsensus(frame);
        } catch (err) {
          log.debug({ err, peer: peer.toString() }, "consensus catch-up from peer failed");
        }
      }),
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    await this.#deps.host.unhandle(this.#protocol).catch(() => undefined);
    await this.#deps.host.unhandle(this.#catchUpProtocol).catch(() => undefined);
    await this.#deps.host.unhandle(this.#mempoolProtocol).catch(() => undefined);
  }

  /** Serves blocks from our store; never more than asked, never beyond our head. */
  async #serve(stream: Stream, _connection: Connection): Promise<void> {
    try {
      const request = await readAll(stream, 12);
      if (request.length !== 12) throw new Error("bad sync request");
      const view = new DataView(request.buffer, request.byteOffset, 12);
      const from = Number(view.getBigUint64(0));
      const count = Math.min(view.getUint32(8), MAX_BLOCKS_PER_REQUEST);
      for (let h = from; h < from + count; h++) {
        const block = this.#deps.db.getBlockBytes(h);
        const cert = this.#deps.db.getCertificate(h);
        if (!block || !cert) break;
        const certBytes = encodeFinalityCertificate(cert);
        const frame = new Uint8Array(8 + block.length + certBytes.length);
        const fv = new DataView(frame.buffer);
        fv.setUint32(0, block.length);
        frame.set(block, 4);
        fv.setUint32(4 + block.length, certBytes.length);
        frame.set(certBytes, 8 + block.length);
        if (!stream.send(frame))
          await new Promise((r) => stream.addEventListener("drain", r, { once: true }));
      }
      await stream.close();
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
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
    this.#running = this.#run().finally(() => {
      this.#running = null;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        this.trigger();
      }
    });
  }

  async #run(): Promise<void> {
    const { host, log } = this.#deps;
    for (const peer of host.getPeers()) {
      try {
        await this.#syncFrom(peer);
      } catch (err) {
        log.warn({ err, peer: peer.toString() }, "block sync from peer failed");
      }
    }
  }

  /**
   * Fetches and applies blocks from `peer` until it has none after our head.
   * Pipelined: the next range is fetched, decoded and its transaction
   * signatures checked on the worker pool while this one executes and
   * commits on the main thread, so a node far behind pays roughly the larger
   * of the two, not their sum.
   */
  async #syncFrom(peer: PeerId): Promise<void> {
    let next = this.#fetchRange(peer, this.#deps.chain.head.height + 1);
    for (;;) {
      if (this.#stopped) return;
      const batch = await next;
      if (batch.length === 0) return;
      const last = batch[batch.length - 1]!.block.header.height;
      next = this.#fetchRange(peer, last + 1);
      // A failed prefetch must not surface as an unhandled rejection if we stop early.
      next.catch(() => undefined);
      for (const [i, { block, certificate }] of batch.entries()) {
        // Synced to disk at the end of each range only: a crash loses at most
        // the unsynced tail, which is final and fetched again (never a partial block).
        if (!(await this.#apply(block, certificate, i === batch.length - 1))) {
          // Our head moved meanwhile (consensus or another peer): start over from it.
          next = this.#fetchRange(peer, this.#deps.chain.head.height + 1);
          break;
        }
      }
    }
  }

  /** Asks `peer` for up to MAX_BLOCKS_PER_REQUEST blocks from `from`; decodes and signature-checks them. */
  async #fetchRange(
    peer: PeerId,
    from: number,
  ): Promise<{ block: Block; certificate: FinalityCertificate }[]> {
    const { host } = this.#deps;
    const stream = await host.dialProtocol(peer, this.#protocol, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const request = new Uint8Array(12);
    const view = new DataView(request.buffer);
    view.setBigUint64(0, BigInt(from));
    view.setUint32(8, MAX_BLOCKS_PER_REQUEST);
    stream.send(request);
    await stream.close();
    const response = await readAll(stream, MAX_RESPONSE_BYTES);
    let at = 0;
    const received: { block: Block; certificate: FinalityCertificate }[] = [];
    const rv = new DataView(response.buffer, response.byteOffset, response.byteLength);
    while (at < response.length) {
      if (at + 4 > response.length) throw new Error("truncated sync frame");
      const blockLen = rv.getUint32(at);
      const blockBytes = response.subarray(at + 4, at + 4 + blockLen);
      const certAt = at + 4 + blockLen;
      if (certAt + 4 > response.length) throw new Error("truncated sync frame");
      const certLen = rv.getUint32(certAt);
      const certBytes = response.subarray(certAt + 4, certAt + 4 + certLen);
      if (certBytes.length !== certLen || blockBytes.length !== blockLen)
        throw new Error("truncated sync frame");
      at = certAt + 4 + certLen;
      const block = decodeBlock(blockBytes);
      if (block.header.height !== from + received.length)
        throw new Error("sync response out of order");
      received.push({ block, certificate: decodeFinalityCertificate(certBytes) });
    }
    // Every transaction signature of the range in one batch: the workers run
    // in parallel and the per-call overhead is paid once, not once per block.
    if (!(await this.#deps.verifyBlockSignatures(received.map((r) => r.block))))
      throw new Error("a synced block has a bad transaction or evidence signature");
    return received;
  }

  /** Verifies and commits one synced block; false if it is not the block after our head. */
  async #apply(block: Block, certificate: FinalityCertificate, durable: boolean): Promise<boolean> {
    const { chain, verifier } = this.#deps;
    const height = block.header.height;
    if (height !== chain.head.height + 1) return false;
    await verifyFinalityCertificate(
      certificate,
      {
        chainId: chain.chainId,
        height,
        blockHash: blockHash(block.header),
        validators: chain.validatorsAt(height),
      },
      verifier,
    );
    const exec = await chain.executeBlock(block);
    try {
      await chain.commit(exec, certificate, [], { durable });
    } catch (err) {
      // Consensus committed this height while we executed it: the same final block.
      if (chain.head.height >= height) return false;
      throw err;
    }
    return true;
  }
}
