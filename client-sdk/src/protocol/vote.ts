/**
 * Consensus votes. A validator signs (type, height, round, block hash or nil)
 * under the "vote" signing domain and the chain id. Two signed votes by one
 * validator for the same (type, height, round) with different block hashes
 * are equivocation evidence.
 */
import {
  type Codec,
  decode,
  encode,
  enumeration,
  optional,
  struct,
  u32,
  versioned,
} from "./codec/codec.ts";
import { hashField, heightField, publicKeyField, signatureField } from "./fields.ts";
import { signingDigest } from "./hash.ts";

export const VOTE_TYPES = ["prevote", "precommit"] as const;
export type VoteType = (typeof VOTE_TYPES)[number];

export interface Vote {
  readonly type: VoteType;
  readonly height: number;
  readonly round: number;
  /** The block voted for, or null for a nil vote. */
  readonly blockHash: Uint8Array | null;
  readonly validator: Uint8Array;
}

export interface SignedVote {
  readonly vote: Vote;
  readonly signature: Uint8Array;
}

export const voteCodec: Codec<Vote> = versioned(
  1,
  struct<Vote>("Vote", {
    type: enumeration("voteType", VOTE_TYPES),
    height: heightField,
    round: u32("round"),
    blockHash: optional(hashField("blockHash")),
    validator: publicKeyField("validator"),
  }),
);

export const signedVoteCodec: Codec<SignedVote> = struct<SignedVote>("SignedVote", {
  vote: voteCodec,
  signature: signatureField,
});

export function encodeVote(vote: Vote): Uint8Array {
  return encode(voteCodec, vote);
}
export function decodeSignedVote(bytes: Uint8Array): SignedVote {
  return decode(signedVoteCodec, bytes, { maxBytes: 256 });
}
export function encodeSignedVote(vote: SignedVote): Uint8Array {
  return encode(signedVoteCodec, vote);
}

/** What a validator signs for `vote` on chain `chainId`. */
export function voteDigest(chainId: string, vote: Vote): Uint8Array {
  return signingDigest("vote", chainId, encodeVote(vote));
}

/**
 * A proposer's signed proposal of a block for (height, round). `polRound` is
 * the round in which the proposer saw a polka (>2/3 prevotes) for this block,
 * or null; it lets locked validators unlock safely (Tendermint).
 */
export interface Proposal {
  readonly height: number;
  readonly round: number;
  readonly polRound: number | null;
  readonly blockHash: Uint8Array;
  readonly proposer: Uint8Array;
}

export interface SignedProposal {
  readonly proposal: Proposal;
  readonly signature: Uint8Array;
}

export const proposalCodec: Codec<Proposal> = versioned(
  1,
  struct<Proposal>("Proposal", {
    height: heightField,
    round: u32("round"),
    polRound: optional(u32("polRound")),
    blockHash: hashField("blockHash"),
    proposer: publicKeyField("proposer"),
  }),
);

export const signedProposalCodec: Codec<SignedProposal> = struct<SignedProposal>("SignedProposal", {
  proposal: proposalCodec,
  signature: signatureField,
});

export function encodeSignedProposal(p: SignedProposal): Uint8Array {
  return encode(signedProposalCodec, p);
}
export function decodeSignedProposal(bytes: Uint8Array): SignedProposal {
  return decode(signedProposalCodec, bytes, { maxBytes: 256 });
}

export function proposalDigest(chainId: string, proposal: Proposal): Uint8Array {
  return signingDigest("proposal", chainId, encode(proposalCodec, proposal));
}
