/**
 * Block headers and blocks.
 *
 * A header commits to its parent, the transactions (RFC 9162 Merkle root and
 * count), the equivocation evidence the block records (Merkle root), the
 * state after the block (sparse Merkle root), the validator set that signs
 * it and the one that signs the next block, and names the protocol version
 * whose rules it was built under (upgrades.ts). The block hash is the
 * tagged hash of the header's canonical encoding; validators vote on it and
 * the finality certificate carries their signatures.
 */
import { DecodeError } from "../errors/protocol.ts";
import { type Codec, decode, encode, list, sortedSet, struct, u32 } from "./codec/codec.ts";
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
import { INITIAL_PROTOCOL_VERSION } from "./upgrades.ts";

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
  /**
   * The protocol version the block was built under (upgrades.ts). Absent
   * means INITIAL_PROTOCOL_VERSION: such a header encodes as it did before
   * versions existed (HEADER_VERSION_V1_RULES), so its hash is unchanged.
   */
  readonly protocolVersion?: number;
}

export interface Block {
  readonly header: BlockHeader;
  readonly txs: readonly SignedTransaction[];
  /** Equivocations recorded by this block, ordered by `evidenceSlot`. */
  readonly evidence: readonly DuplicateVoteEvidence[];
}

/** 2: the header gained `evidenceRoot` and the block its evidence. Every header of protocol version 1. */
export const HEADER_VERSION_V1_RULES = 2;
/** 3: the header gained `protocolVersion`, which is then 2 or more. */
export const HEADER_VERSION = 3;

const headerFields = struct<Omit<BlockHeader, "protocolVersion">>("BlockHeader", {
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
});

/** The protocol version a header names (absent: the initial one). */
export function headerProtocolVersion(header: BlockHeader): number {
  return header.protocolVersion ?? INITIAL_PROTOCOL_VERSION;
}

/**
 * Two encodings, chosen by the protocol version, so that each header has
 * exactly one: version 1 is encoding 2, byte for byte what every node wrote
 * before versions existed (old blocks keep their hashes, and a node of this
 * build makes the same version-1 blocks as one of the last, which is what
 * lets a rolling restart mix them); version 2 and later is encoding 3,
 * `protocolVersion` (u32) after the version byte, then the same fields. An
 * encoding 3 that names version 1 is refused, as it would be a second
 * encoding of a version-1 header.
 */
export const blockHeaderCodec: Codec<BlockHeader> = {
  name: "BlockHeader",
  write(w, v) {
    const version = headerProtocolVersion(v);
    if (version === INITIAL_PROTOCOL_VERSION) w.u8(HEADER_VERSION_V1_RULES);
    else {
      w.u8(HEADER_VERSION);
      w.u32(version);
    }
    headerFields.write(w, v);
  },
  read(r) {
    const encoding = r.u8("BlockHeader version");
    if (encoding === HEADER_VERSION_V1_RULES) return headerFields.read(r);
    if (encoding !== HEADER_VERSION)
      throw new DecodeError(
        "DECODE_UNKNOWN_VERSION",
        `Unsupported BlockHeader version ${encoding}.`,
        {
          details: { supported: [HEADER_VERSION_V1_RULES, HEADER_VERSION] },
        },
      );
    const protocolVersion = r.u32("protocolVersion");
    if (protocolVersion <= INITIAL_PROTOCOL_VERSION)
      throw new DecodeError(
        "DECODE_NON_CANONICAL",
        `A version ${HEADER_VERSION} header must name protocol version 2 or later.`,
        { details: { protocolVersion } },
      );
    return { ...headerFields.read(r), protocolVersion };
  },
};

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
