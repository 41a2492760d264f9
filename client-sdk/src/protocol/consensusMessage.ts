/**
 * What validators gossip to agree: a signed proposal together with the block
 * it proposes, or a signed vote. One tagged encoding, so a gossip payload
 * decodes to exactly one message and its hash is its gossip id.
 */
import { type Block, blockCodec } from "./block.ts";
import { type Codec, decode, encode, list, struct, taggedUnion } from "./codec/codec.ts";
import { MAX_BLOCK_BYTES, MAX_VALIDATORS } from "./limits.ts";
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
  | { readonly kind: "vote"; readonly vote: SignedVote };

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
}) as Codec<ConsensusMessage>;

export function encodeConsensusMessage(m: ConsensusMessage): Uint8Array {
  return encode(consensusMessageCodec, m);
}

export function decodeConsensusMessage(bytes: Uint8Array): ConsensusMessage {
  return decode(consensusMessageCodec, bytes, {
    maxBytes: MAX_BLOCK_BYTES + 512 + MAX_VALIDATORS * 256,
  });
}
