/**
 * Block headers and blocks.
 *
 * A header commits to its parent, the transactions (RFC 9162 Merkle root and
 * count), the equivocation evidence the block records (Merkle root), the
 * state after the block (sparse Merkle root), the validator set that signs
 * it and the one that signs the next block. The block hash is the
 * tagged hash of the header's canonical encoding; validators vote on it and
 * the finality certificate carries their signatures.
 */
import {
  type Codec,
  decode,
  encode,
  list,
  sortedSet,
  struct,
  u32,
  versioned,
} from "./codec/codec.ts";
import {
  type DuplicateVoteEvidence,
  encodeEvidence,
  evidenceCodec,
  evidenceSlot,
} from "./evidence.ts";
import { chainIdField, hashField, heightField, publicKeyField, timeField } from "./fields.ts";
import { HashTag, taggedHash } from "./hash.ts";
import { MAX_BLOCK_BYTES, MAX_BLOCK_EVIDENCE, MAX_BLOCK_TXS } from "./limits.ts";
import { merkleRoot } from "./merkle.ts";
import {
  encodeSignedTransaction,
  type SignedTransaction,
  signedTransactionCodec,
} from "./transaction.ts";

export interface BlockHeader {
  readonly chainId: string;
  readonly height: number;
  /** Unix ms, set by the proposer; strictly increases along the chain. */
  readonly time: number;
  /** Hash of the header at height − 1; 32 zero bytes at height 1's parent (genesis). */
  readonly parentHash: Uint8Array;
  readonly txRoot: Uint8Array;
  readonly txCount: number;
  /** RFC 9162 Merkle root over the encodings of `evidence` (the empty-tree root when none). */
  readonly evidenceRoot: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly validatorsHash: Uint8Array;
  readonly nextValidatorsHash: Uint8Array;
  readonly proposer: Uint8Array;
}

export interface Block {
  readonly header: BlockHeader;
  readonly txs: readonly SignedTransaction[];
  /** Equivocations recorded by this block, ordered by `evidenceSlot`. */
  readonly evidence: readonly DuplicateVoteEvidence[];
}

/** 2: the header gained `evidenceRoot` and the block its evidence. */
export const HEADER_VERSION = 2;

export const blockHeaderCodec: Codec<BlockHeader> = versioned(
  HEADER_VERSION,
  struct<BlockHeader>("BlockHeader", {
    chainId: chainIdField,
    height: heightField,
    time: timeField("time"),
    parentHash: hashField("parentHash"),
    txRoot: hashField("txRoot"),
    txCount: u32("txCount"),
    evidenceRoot: hashField("evidenceRoot"),
    stateRoot: hashField("stateRoot"),
    validatorsHash: hashField("validatorsHash"),
    nextValidatorsHash: hashField("nextValidatorsHash"),
    proposer: publicKeyField("proposer"),
  }),
);

/** A block's evidence list: sorted, one per slot (shared with compact proposals). */
export const blockEvidenceCodec = sortedSet(
  "evidence",
  evidenceCodec,
  MAX_BLOCK_EVIDENCE,
  evidenceSlot,
);

export const blockCodec: Codec<Block> = struct<Block>("Block", {
  header: blockHeaderCodec,
  txs: list("txs", signedTransactionCodec, MAX_BLOCK_TXS),
  evidence: blockEvidenceCodec,
});

export function encodeBlockHeader(header: BlockHeader): Uint8Array {
  return encode(blockHeaderCodec, header);
}
export function decodeBlockHeader(bytes: Uint8Array): BlockHeader {
  return decode(blockHeaderCodec, bytes, { maxBytes: 512 });
}
export function encodeBlock(block: Block): Uint8Array {
  return encode(blockCodec, block);
}
export function decodeBlock(bytes: Uint8Array): Block {
  return decode(blockCodec, bytes, { maxBytes: MAX_BLOCK_BYTES });
}

export function blockHash(header: BlockHeader): Uint8Array {
  return taggedHash(HashTag.header, encodeBlockHeader(header));
}

/** The Merkle root over a block's transactions, leaves being their signed encodings. */
export function transactionsRoot(txs: readonly SignedTransaction[]): Uint8Array {
  return merkleRoot(txs.map(encodeSignedTransaction));
}

/** The Merkle root over a block's evidence, leaves being their encodings. */
export function evidenceRoot(evidence: readonly DuplicateVoteEvidence[]): Uint8Array {
  return merkleRoot(evidence.map(encodeEvidence));
}

/**
 * The block's encoding built from its header, the canonical encodings of
 * its transactions and its evidence, without encoding the transactions
 * again: byte-for-byte what encodeBlock gives (tested), for a producer that
 * already holds the bytes.
 */
export function encodeBlockFromParts(
  header: BlockHeader,
  txBytes: readonly Uint8Array[],
  evidence: readonly DuplicateVoteEvidence[] = [],
): Uint8Array {
  const head = encodeBlockHeader(header);
  const tail = encode(blockEvidenceCodec, evidence);
  let length = head.length + 4 + tail.length;
  for (const t of txBytes) length += t.length;
  const out = new Uint8Array(length);
  out.set(head, 0);
  new DataView(out.buffer).setUint32(head.length, txBytes.length);
  let at = head.length + 4;
  for (const t of txBytes) {
    out.set(t, at);
    at += t.length;
  }
  out.set(tail, at);
  return out;
}
