/**
 * What validators gossip to agree: a signed proposal together with the block
 * it proposes (whole, or compact: its transactions named by their Merkle
 * leaf hashes), or a signed vote. One tagged encoding, so a gossip payload
 * decodes to exactly one message and its hash is its gossip id.
 */
import {
  type Block,
  type BlockHeader,
  blockCodec,
  blockEvidenceCodec,
  blockHeaderCodec,
} from "./block.ts";
import { type Codec, decode, encode, list, struct, taggedUnion } from "./codec/codec.ts";
import type { DuplicateVoteEvidence } from "./evidence.ts";
import { hashField } from "./fields.ts";
import { MAX_BLOCK_BYTES, MAX_BLOCK_TXS, MAX_VALIDATORS } from "./limits.ts";
import { merkleLeafHash } from "./merkle.ts";
import { encodeSignedTransaction, type SignedTransaction } from "./transaction.ts";
import {
  type SignedProposal,
  type SignedVote,
  signedProposalCodec,
  signedVoteCodec,
} from "./vote.ts";

/**
 * A proposal travels with its block and, when it re-proposes a block that won
 * a polka in an earlier round (polRound), with that polka's prevotes, so a
 * validator that missed them (it restarted, or the network dropped them) can
 * still see why the block may be voted for. Without them a locked minority
 * and a returning majority can wait on each other forever.
 */
export type ConsensusMessage =
  | {
      readonly kind: "proposal";
      readonly proposal: SignedProposal;
      readonly block: Block;
      readonly polVotes: readonly SignedVote[];
    }
  | CompactProposal
  | { readonly kind: "vote"; readonly vote: SignedVote };

/**
 * A proposal whose block's transactions are named, not carried: each by the
 * Merkle leaf hash of its signed encoding, the leaf the header's txRoot is
 * built from. So the list is bound to the signed header (its root must be
 * txRoot: gossip checks it before relaying), and a validator rebuilds the
 * block from the transactions its mempool already holds — they reached it
 * by gossip before the proposal did — instead of receiving and decoding
 * every body a second time. What it lacks it fetches whole (catch-up
 * serves full proposals). Evidence is rare and small: carried as it is.
 */
export interface CompactProposal {
  readonly kind: "compact-proposal";
  readonly proposal: SignedProposal;
  readonly header: BlockHeader;
  readonly txLeaves: readonly Uint8Array[];
  readonly evidence: readonly DuplicateVoteEvidence[];
  readonly polVotes: readonly SignedVote[];
}

/** A transaction's name in a compact proposal: the leaf hash of its signed encoding. */
export function transactionLeaf(signedEncoding: Uint8Array): Uint8Array {
  return merkleLeafHash(signedEncoding);
}

/**
 * The compact form of a whole proposal. `knownLeaf` answers a transaction's
 * leaf where it is already known (a mempool computed it at admission), so
 * it is not encoded and hashed again.
 */
export function compactProposal(
  m: Extract<ConsensusMessage, { kind: "proposal" }>,
  knownLeaf?: (stx: SignedTransaction) => Uint8Array | undefined,
): CompactProposal {
  return {
    kind: "compact-proposal",
    proposal: m.proposal,
    header: m.block.header,
    txLeaves: m.block.txs.map(
      (stx) => knownLeaf?.(stx) ?? transactionLeaf(encodeSignedTransaction(stx)),
    ),
    evidence: m.block.evidence,
    polVotes: m.polVotes,
  };
}

export const consensusMessageCodec = taggedUnion("ConsensusMessage", {
  proposal: {
    tag: 1,
    codec: struct<{ proposal: SignedProposal; block: Block; polVotes: readonly SignedVote[] }>(
      "ProposalMessage",
      {
        proposal: signedProposalCodec,
        block: blockCodec,
        polVotes: list("polVotes", signedVoteCodec, MAX_VALIDATORS),
      },
    ),
  },
  vote: { tag: 2, codec: struct<{ vote: SignedVote }>("VoteMessage", { vote: signedVoteCodec }) },
  "compact-proposal": {
    tag: 3,
    codec: struct<Omit<CompactProposal, "kind">>("CompactProposalMessage", {
      proposal: signedProposalCodec,
      header: blockHeaderCodec,
      txLeaves: list("txLeaves", hashField("txLeaf"), MAX_BLOCK_TXS),
      evidence: blockEvidenceCodec,
      polVotes: list("polVotes", signedVoteCodec, MAX_VALIDATORS),
    }),
  },
}) as Codec<ConsensusMessage>;

export function encodeConsensusMessage(m: ConsensusMessage): Uint8Array {
  return encode(consensusMessageCodec, m);
}

export function decodeConsensusMessage(bytes: Uint8Array): ConsensusMessage {
  return decode(consensusMessageCodec, bytes, {
    maxBytes: MAX_BLOCK_BYTES + 512 + MAX_VALIDATORS * 256,
  });
}
