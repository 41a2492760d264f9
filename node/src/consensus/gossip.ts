/**
 * Validation of the consensus gossip topic (`/edgeledger/<chain>/consensus/1`)
 * and of the same messages when catch-up brings them: a proposal with its
 * block (whole, or compact: its transactions' leaf hashes), or a vote.
 * Answers accept / ignore / reject (network/gossip.ts): reject only for what
 * no honest validator sends — undecodable bytes, a signer outside the
 * height's set, a proposal from the wrong proposer, a bad signature, a body
 * (or a compact list of leaves) that is not its header's — so that peer
 * scoring punishes whoever relays it. A message for a height this node cannot use
 * (decided, or too far ahead) is ignored, never rejected: an honest peer
 * that is ahead or behind sends those.
 *
 * Order: the cheap checks first, then signatures (through a verifier that
 * remembers the exact signed bytes it already checked), then the block
 * body's roots, which hash every transaction.
 */
import {
  blockHash,
  type CompactProposal,
  type ConsensusMessage,
  decodeConsensusMessage,
  equalBytes,
  evidenceRoot,
  merkleRootOfHashes,
  proposalDigest,
  proposerIndex,
  type SignatureVerifier,
  toHex,
  type ValidatorSet,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import { bodyMismatch } from "../chain/chain.ts";
import type { GossipVerdict } from "../network/gossip.ts";

export interface ConsensusGossipDeps {
  readonly chainId: string;
  /** Synchronous: gossip validation runs for every message a peer relays. */
  readonly verifier: SignatureVerifier & {
    verifySync: NonNullable<SignatureVerifier["verifySync"]>;
  };
  /** The committed head's height. */
  readonly headHeight: () => number;
  /** The set that signs `height` (known up to head + 2). */
  readonly validatorsAt: (height: number) => ValidatorSet;
  /** A peer works on `height`, above the next: we may be behind (sync/behind.ts). */
  readonly behind?: (height: number) => void;
}

export interface ConsensusVerdict {
  readonly verdict: GossipVerdict;
  readonly value?: ConsensusMessage;
  /** Why it was not accepted (logs, tests). */
  readonly reason?: string;
}

/** A compact proposal's body against its header: the leaves must build txRoot, the evidence evidenceRoot. */
export function compactMismatch(m: CompactProposal): string | null {
  const h = m.header;
  if (h.txCount !== m.txLeaves.length || !equalBytes(h.txRoot, merkleRootOfHashes(m.txLeaves)))
    return "txRoot/txCount mismatch";
  if (!equalBytes(h.evidenceRoot, evidenceRoot(m.evidence))) return "evidenceRoot mismatch";
  return null;
}

const isMember = (set: ValidatorSet, key: Uint8Array) =>
  set.some((v) => equalBytes(v.publicKey, key));

export function validateConsensusMessage(
  data: Uint8Array,
  deps: ConsensusGossipDeps,
): ConsensusVerdict {
  const { chainId, verifier } = deps;
  let message: ConsensusMessage;
  try {
    message = decodeConsensusMessage(data);
  } catch {
    return { verdict: "reject", reason: "undecodable" };
  }
  const height =
    message.kind === "vote" ? message.vote.vote.height : message.proposal.proposal.height;
  const head = deps.headHeight();
  if (height > head + 1) deps.behind?.(height);
  if (height <= head || height > head + 2) return { verdict: "ignore", reason: "height" };
  const validators = deps.validatorsAt(height);
  if (message.kind === "vote") {
    const { vote, signature } = message.vote;
    if (!isMember(validators, vote.validator)) return { verdict: "reject", reason: "not a member" };
    return verifier.verifySync(signature, voteDigest(chainId, vote), vote.validator)
      ? { verdict: "accept", value: message }
      : { verdict: "reject", reason: "vote signature" };
  }
  const { proposal, signature } = message.proposal;
  const header = message.kind === "proposal" ? message.block.header : message.header;
  const proposer = validators[proposerIndex(validators, proposal.height, proposal.round)]!;
  if (!equalBytes(proposer.publicKey, proposal.proposer))
    return { verdict: "reject", reason: "not the round's proposer" };
  if (header.height !== proposal.height || !equalBytes(blockHash(header), proposal.blockHash))
    return { verdict: "reject", reason: "block is not the proposal's" };
  // A fresh proposal is of a block its proposer built (driver.ts checks it too).
  if (proposal.polRound === null && !equalBytes(header.proposer, proposal.proposer))
    return { verdict: "reject", reason: "header names another proposer" };
  if (proposal.polRound !== null && proposal.polRound >= proposal.round)
    return { verdict: "reject", reason: "polRound not below round" };
  if (!verifier.verifySync(signature, proposalDigest(chainId, proposal), proposal.proposer))
    return { verdict: "reject", reason: "proposal signature" };
  // The polka prevotes must be what they claim: this height, the polRound, this block, by members.
  const polkaVoters = new Set<string>();
  for (const { vote, signature: voteSignature } of message.polVotes) {
    const fits =
      vote.type === "prevote" &&
      vote.height === proposal.height &&
      vote.round === proposal.polRound &&
      vote.blockHash !== null &&
      equalBytes(vote.blockHash, proposal.blockHash) &&
      isMember(validators, vote.validator) &&
      verifier.verifySync(voteSignature, voteDigest(chainId, vote), vote.validator);
    if (!fits) return { verdict: "reject", reason: "polka vote" };
    polkaVoters.add(toHex(vote.validator));
  }
  if (polkaVoters.size !== message.polVotes.length)
    return { verdict: "reject", reason: "repeated polka vote" };
  const body = message.kind === "proposal" ? bodyMismatch(message.block) : compactMismatch(message);
  if (body !== null) return { verdict: "reject", reason: body };
  return { verdict: "accept", value: message };
}
