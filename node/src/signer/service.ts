/**
 * What the signer does with one request, apart from sockets: decode it
 * strictly, check its chain and validator, and sign through its own signing
 * guard (the same journal rules as a node's, in the signer's home), which
 * refuses a conflicting vote or proposal whoever asks — two validator
 * processes sharing this signer (a hot standby) cannot make it double-sign.
 * Requests are served one at a time, so two racing conflicting requests are
 * decided in order: the first is signed, the second refused.
 */
import { equalBytes, toHex } from "@edgeledger/sdk/protocol";
import type { LocalSigningGuard } from "../consensus/signingGuard.ts";
import { RemoteSignerError } from "./errors.ts";
import { decodeRequest, errorReply, type SignerReply, type SignerRequest } from "./wire.ts";

export interface SignerServiceDeps {
  readonly chainId: string;
  /** The guard over the validator key and the signer's journal. */
  readonly guard: LocalSigningGuard;
}

export class SignerService {
  readonly #deps: SignerServiceDeps;
  /** Requests are decided one after another (the journal reads, then writes, its record). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: SignerServiceDeps) {
    this.#deps = deps;
  }

  /** The reply to the request in `bytes`; never throws (a refusal is an error reply). */
  handle(bytes: Uint8Array): Promise<SignerReply> {
    const next = this.#queue.then(() => this.#decide(bytes));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #decide(bytes: Uint8Array): Promise<SignerReply> {
    try {
      return await this.#answer(decodeRequest(bytes));
    } catch (err) {
      return errorReply(err);
    }
  }

  async #answer(request: SignerRequest): Promise<SignerReply> {
    const { chainId, guard } = this.#deps;
    if (request.chainId !== chainId)
      throw new RemoteSignerError(
        "REMOTE_SIGNER_WRONG_CHAIN",
        `This signer signs for chain "${chainId}", not "${request.chainId}".`,
      );
    if (request.kind === "identity")
      return { kind: "identity", chainId, validator: guard.publicKey };
    const signer = request.kind === "vote" ? request.vote.validator : request.proposal.proposer;
    if (!equalBytes(signer, guard.publicKey))
      throw new RemoteSignerError(
        "REMOTE_SIGNER_WRONG_VALIDATOR",
        `This signer holds validator ${toHex(guard.publicKey)}, not ${toHex(signer)}.`,
      );
    const signature =
      request.kind === "vote"
        ? await guard.signVote(request.vote, null, request.polRound)
        : await guard.signProposal(request.proposal, null);
    if (!signature) {
      const what = request.kind === "vote" ? request.vote : request.proposal;
      throw new RemoteSignerError(
        "REMOTE_SIGNER_CONFLICT",
        `Refused: the signer already signed a conflicting ${request.kind === "vote" ? request.vote.type : "proposal"} at height ${what.height} (round ${what.round} or later), or a precommit whose lock this prevote goes against.`,
        { details: { height: what.height, round: what.round } },
      );
    }
    return { kind: "signature", signature };
  }
}
