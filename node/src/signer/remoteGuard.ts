/**
 * The signing guard of a validator whose key is in a remote signer
 * (`edgeledger signer`). It keeps the same journal as a local guard in the
 * node's own database — written before the signer is asked, so a restarted
 * validator resumes its round, lock and valid value as a local one does —
 * then asks the signer, whose own journal is what forbids a double-sign
 * (whichever validator process asks). A signature that does not come (the
 * signer down, slow, or refusing) is a vote not cast: there is no local key
 * to fall back to. Each signature is verified against the validator key
 * before it is used, so a signer cannot make this node send garbage.
 */
import {
  type Proposal,
  proposalDigest,
  type SignatureVerifier,
  type SignedVote,
  type Vote,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import type { Logger } from "pino";
import {
  JournaledGuard,
  type SigningGuard,
  type SigningStore,
  type ValidValue,
} from "../consensus/signingGuard.ts";
import type { SignerClient } from "./client.ts";
import { RemoteSignerError } from "./errors.ts";

/** Late votes kept: a height's prevote and precommit of its last two rounds. */
const MAX_LATE_VOTES = 4;

/** A vote to ask for again once the signer is back, with the justification it was asked with. */
interface LateVote {
  readonly vote: Vote;
  readonly polRound: number | null;
}

/** A key no validator set holds: the driver then counts this node out until the signer names its key. */
const NO_KEY = new Uint8Array(32);

export class RemoteSigningGuard extends JournaledGuard implements SigningGuard {
  readonly #client: SignerClient;
  readonly #chainId: string;
  readonly #verifier: SignatureVerifier;
  readonly #log: Logger;
  /** Votes admitted to the journal but not signed for want of the signer (latest height, a few). */
  #late: LateVote[] = [];
  #onLate: ((vote: SignedVote) => void) | null = null;

  constructor(
    db: SigningStore,
    deps: { client: SignerClient; chainId: string; verifier: SignatureVerifier; log: Logger },
  ) {
    super(db, deps.chainId);
    this.#client = deps.client;
    this.#chainId = deps.chainId;
    this.#verifier = deps.verifier;
    this.#log = deps.log;
    this.#client.onConnected(() => void this.#signLate());
  }

  onLateVote(listener: (vote: SignedVote) => void): void {
    this.#onLate = listener;
  }

  onKeyNamed(listener: () => void): void {
    this.#client.onConnected(listener);
  }

  /**
   * The votes of the latest height the signer could not be reached for, once
   * it is back: the engine counted them as sent, so unless they go out late
   * no one ever sees them, and a network that needs this validator's vote to
   * reach two thirds would wait in that round for good. Sent late is only
   * delayed, which the protocol tolerates; the signer still refuses a conflict.
   */
  async #signLate(): Promise<void> {
    const votes = this.#late.splice(0);
    for (const { vote, polRound } of votes) {
      const signature = await this.#remote(
        { kind: "vote", chainId: this.#chainId, vote, polRound },
        voteDigest(this.#chainId, vote),
        { height: vote.height, round: vote.round, step: vote.type },
        null,
      );
      if (!signature) continue;
      this.#log.info(
        { height: vote.height, round: vote.round, step: vote.type },
        "sending a vote the remote signer signed late",
      );
      this.#onLate?.({ vote, signature });
    }
  }

  get publicKey(): Uint8Array {
    return this.#client.validator ?? NO_KEY;
  }

  async signProposal(proposal: Proposal, blockBytes: Uint8Array): Promise<Uint8Array | null> {
    if (!(await this.journal.admitProposal(proposal, blockBytes))) return null;
    return this.#remote(
      { kind: "proposal", chainId: this.#chainId, proposal },
      proposalDigest(this.#chainId, proposal),
      { height: proposal.height, round: proposal.round, step: "proposal" },
    );
  }

  async signVote(
    vote: Vote,
    valid: ValidValue | null = null,
    polRound: number | null = null,
  ): Promise<Uint8Array | null> {
    if (!(await this.journal.admitVote(vote, valid, polRound))) return null;
    return this.#remote(
      { kind: "vote", chainId: this.#chainId, vote, polRound },
      voteDigest(this.#chainId, vote),
      { height: vote.height, round: vote.round, step: vote.type },
      { vote, polRound },
    );
  }

  async #remote(
    request: Parameters<SignerClient["request"]>[0],
    digest: Uint8Array,
    at: { height: number; round: number; step: string },
    /** A vote to sign late if the signer is unreachable now (null: do not). */
    retry: LateVote | null = null,
  ): Promise<Uint8Array | null> {
    try {
      const signature = await this.#client.request(request);
      if (!(await this.#verifier.verify(signature, digest, this.publicKey)))
        throw RemoteSignerError.malformed("The signer's signature (it does not verify)");
      return signature;
    } catch (err) {
      const code = err instanceof RemoteSignerError ? err.code : "REMOTE_SIGNER_UNREACHABLE";
      this.#log.warn({ err, code, ...at }, "no signature from the remote signer; not signing");
      if (retry && (code === "REMOTE_SIGNER_UNREACHABLE" || code === "REMOTE_SIGNER_TIMEOUT"))
        this.#keepLate(retry);
      return null;
    }
  }

  #keepLate(late: LateVote): void {
    const height = this.#late[0]?.vote.height;
    if (height !== undefined && late.vote.height < height) return;
    if (height !== undefined && late.vote.height > height) this.#late = [];
    this.#late.push(late);
    if (this.#late.length > MAX_LATE_VOTES) this.#late.shift();
  }
}
