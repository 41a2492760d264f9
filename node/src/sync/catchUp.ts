/**
 * Consensus catch-up (protocol /edgeledger/<chain>/catchup/1): gossip only
 * reaches peers that are connected when a message is sent, so a validator
 * that (re)joins in the middle of a height asks its peers for the proposals
 * and votes they hold for it, and checks each like a gossiped one.
 *
 *   request   u64 height
 *   response  per message: u32 length ‖ encoded ConsensusMessage
 *
 * Bounds — a reply holds no more than an honest node keeps for one height:
 * the driver keeps at most 8 × MAX_VALIDATORS messages of a height
 * (MAX_CATCHUP_MESSAGES here; the driver serves what its engine keeps), nearly all of
 * them votes (≤ MAX_VOTE_MESSAGE_BYTES each, 144 today). Proposals carry a
 * block (up to the decode bound, ≈ 4.1 MiB), so the server sends the votes
 * and at most CATCHUP_PROPOSALS proposals: those the most votes name, then
 * the latest rounds (a Byzantine proposer's spam gets no honest votes, so it
 * cannot crowd out the proposal the others are voting on). A reply is then
 * at most MAX_CATCHUP_REPLY_BYTES ≈ 8.5 MiB, not the 64 MiB it once was.
 *
 * Checked as it is read: each frame's prefix against the decode bound of a
 * consensus message, then decoded (SYNC_MALFORMED), then its height against
 * the one asked (SYNC_OUT_OF_ORDER: an honest node serves only that height),
 * and only then handed to acceptConsensus (the gossip validator), one by one.
 */
import {
  type ConsensusMessage,
  decodeConsensusMessage,
  encodeConsensusMessage,
  equalBytes,
  MAX_BLOCK_BYTES,
  MAX_VALIDATORS,
} from "@edgeledger/sdk/protocol";
import type { PeerId, Stream } from "@libp2p/interface";
import type { SyncContext } from "./context.ts";
import { SyncError } from "./errors.ts";
import { finish, frame, openRequest, type ServingSlots, send } from "./frames.ts";
import { catchUpProtocol } from "./protocols.ts";

/** Votes served per height (the engine's log holds each validator's votes of the rounds it keeps). */
export const MAX_CATCHUP_MESSAGES = 8 * MAX_VALIDATORS;
/** decodeConsensusMessage's bound (client-sdk consensusMessage.ts). */
export const MAX_CONSENSUS_MESSAGE_BYTES = MAX_BLOCK_BYTES + 512 + MAX_VALIDATORS * 256;
/** An encoded vote message is 144 bytes (tag, version, fields, signature); rounded up. */
export const MAX_VOTE_MESSAGE_BYTES = 192;
export const CATCHUP_PROPOSALS = 2;
export const MAX_CATCHUP_REPLY_BYTES =
  CATCHUP_PROPOSALS * (4 + MAX_CONSENSUS_MESSAGE_BYTES) +
  MAX_CATCHUP_MESSAGES * (4 + MAX_VOTE_MESSAGE_BYTES);

const heightOf = (m: ConsensusMessage) =>
  m.kind === "vote" ? m.vote.vote.height : m.proposal.proposal.height;

/**
 * What we serve of the messages we hold: votes up to the per-height bound,
 * later rounds first (a node catching up needs the rounds the others are
 * in), then CATCHUP_PROPOSALS proposals: the latest round's (to vote on now)
 * and the one most voted for (to commit, or to lock on).
 */
export function selectCatchUp(messages: readonly ConsensusMessage[]): ConsensusMessage[] {
  const votes = messages.filter((m) => m.kind === "vote");
  const proposals = messages.filter((m) => m.kind === "proposal");
  const support = (p: ConsensusMessage) =>
    p.kind !== "proposal"
      ? 0
      : votes.filter((v) => {
          const h = v.kind === "vote" ? v.vote.vote.blockHash : null;
          return h !== null && equalBytes(h, p.proposal.proposal.blockHash);
        }).length;
  const round = (p: ConsensusMessage) => (p.kind === "proposal" ? p.proposal.proposal.round : 0);
  const byRound = [...proposals].sort((a, b) => round(b) - round(a));
  const latest = byRound.slice(0, 1);
  const mostVoted = byRound
    .slice(1)
    .map((p) => ({ p, support: support(p) }))
    .sort((a, b) => b.support - a.support)
    .slice(0, CATCHUP_PROPOSALS - latest.length)
    .map((e) => e.p);
  const chosen = [...latest, ...mostVoted];
  const voteRound = (v: ConsensusMessage) => (v.kind === "vote" ? v.vote.vote.round : 0);
  const newestFirst = [...votes].sort((a, b) => voteRound(b) - voteRound(a));
  return [...newestFirst.slice(0, MAX_CATCHUP_MESSAGES - chosen.length), ...chosen];
}

export async function serveCatchUp(
  ctx: SyncContext,
  slots: ServingSlots,
  messagesFor: (height: number) => readonly ConsensusMessage[],
  stream: Stream,
): Promise<void> {
  await slots.serve(
    stream,
    ctx.options.serveDeadlines,
    "consensus catch-up",
    async (reader, deadline) => {
      const request = await reader.read(8);
      if (request === null) throw SyncError.malformed("an empty catch-up request");
      await reader.end();
      const height = Number(new DataView(request.buffer).getBigUint64(0));
      for (const m of selectCatchUp(messagesFor(height)))
        await send(stream, frame(encodeConsensusMessage(m)), deadline);
    },
    8,
  );
}

/**
 * Asks `peer` for its messages of `height`, handing each to `accept` as it
 * is read and checked; throws a SyncError on the first fault (messages
 * before it were valid and are kept: the gossip validator checked them).
 */
export async function catchUpFrom(
  ctx: SyncContext,
  peer: PeerId,
  height: number,
  /** False: the message fails the gossip rules (reject), which only a faulty peer serves. */
  accept: (data: Uint8Array) => boolean,
): Promise<void> {
  const request = new Uint8Array(8);
  new DataView(request.buffer).setBigUint64(0, BigInt(height));
  const exchange = await openRequest(ctx.host, peer, catchUpProtocol(ctx.chainId), request, {
    deadlines: ctx.options.requestDeadlines,
    limit: MAX_CATCHUP_REPLY_BYTES,
    what: "consensus catch-up",
  });
  try {
    let votes = 0;
    let proposals = 0;
    for (;;) {
      const bytes = await exchange.reader.frame(MAX_CONSENSUS_MESSAGE_BYTES, "A consensus message");
      if (bytes === null) break;
      let message: ConsensusMessage;
      try {
        message = decodeConsensusMessage(bytes);
      } catch (cause) {
        throw SyncError.malformed("bytes that are not a consensus message", { cause });
      }
      if (heightOf(message) !== height)
        throw new SyncError("SYNC_OUT_OF_ORDER", "The peer sent a message of another height.", {
          details: { asked: height, got: heightOf(message) },
        });
      if (message.kind === "proposal" && ++proposals > CATCHUP_PROPOSALS)
        throw SyncError.tooLarge("The reply's proposal count", proposals, CATCHUP_PROPOSALS);
      if (message.kind === "vote" && ++votes > MAX_CATCHUP_MESSAGES)
        throw SyncError.tooLarge("The reply's vote count", votes, MAX_CATCHUP_MESSAGES);
      if (!accept(bytes))
        throw SyncError.malformed("a consensus message that the gossip rules reject");
    }
    finish(exchange);
  } catch (err) {
    finish(exchange, err);
    throw err;
  }
}
