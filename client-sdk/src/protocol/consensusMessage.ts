/**
 * What validators gossip to agree: a signed proposal together with the block
 * it proposes, or a signed vote. One tagged encoding, so a gossip payload
 * decodes to exactly one message and its hash is its gossip id.
 */
import { type Block, blockCodec } from "./block.ts";
import { type Codec, decode, encode, struct, taggedUnion } from "./codec/codec.ts";
import { MAX_BLOCK_BYTES } from "./limits.ts";
import {
  type SignedProposal,
  type SignedVote,
  signedProposalCodec,
  signedVoteCodec,
} from "./vote.ts";

export type ConsensusMessage =
  | { readonly kind: "proposal"; readonly proposal: SignedProposal; readonly block: Block }
  | { readonly kind: "vote"; readonly vote: SignedVote };

export const consensusMessageCodec = taggedUnion("ConsensusMessage", {
  proposal: {
    tag: 1,
    codec: struct<{ proposal: SignedProposal; block: Block }>("ProposalMessage", {
      proposal: signedProposalCodec,
      block: blockCodec,
    }),
  },
  vote: { tag: 2, codec: struct<{ vote: SignedVote }>("VoteMessage", { vote: signedVoteCodec }) },
}) as Codec<ConsensusMessage>;

export function encodeConsensusMessage(m: ConsensusMessage): Uint8Array {
  return encode(consensusMessageCodec, m);
}

export function decodeConsensusMessage(bytes: Uint8Array): ConsensusMessage {
  return decode(consensusMessageCodec, bytes, { maxBytes: MAX_BLOCK_BYTES + 512 });
}
