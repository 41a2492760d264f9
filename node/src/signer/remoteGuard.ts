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

/** A key no validator set holds: the driver then counts this node out until the signer names its key. */
const NO_KEY = new Uint8Array(32);

export class RemoteSigningGuard extends JournaledGuard implements SigningGuard {
  readonly #client: SignerClient;
  readonly #chainId: string;
  readonly #verifier: SignatureVerifier;
  readonly #log: Logger;

  constructor(
    db: SigningStore,
    deps: { client: SignerClient; chainId: string; verifier: SignatureVerifier; log: Logger },
  ) {
    super(db, deps.chainId);
    this.#client = deps.client;
    this.#chainId = deps.chainId;
    this.#verifier = deps.verifier;
    this.#log = deps.log;
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

  async signVote(vote: Vote, valid: ValidValue | null = null): Promise<Uint8Array | null> {
    if (!(await this.journal.admitVote(vote, valid))) return null;
    return this.#remote(
      { kind: "vote", chainId: this.#chainId, vote },
      voteDigest(this.#chainId, vote),
      { height: vote.height, round: vote.round, step: vote.type },
    );
  }

  async #remote(
    request: Parameters<SignerClient["request"]>[0],
    digest: Uint8Array,
    at: { height: number; round: number; step: string },
  ): Promise<Uint8Array | null> {
    try {
      const signature = await this.#client.request(request);
      if (!(await this.#verifier.verify(signature, digest, this.publicKey)))
        throw RemoteSignerError.malformed("The signer's signature (it does not verify)");
      return signature;
    } catch (err) {
      const code = err instanceof RemoteSignerError ? err.code : "REMOTE_SIGNER_UNREACHABLE";
      this.#log.warn({ err, code, ...at }, "no signature from the remote signer; not signing");
      return null;
    }
  }
}
