/**
 * Header-chain verification: the light client's core, shared by the SDK and
 * the edge. From a trusted header (genesis or a checkpoint) and the validator
 * set that signed it, each next header is accepted only if it links to its
 * parent, is signed (finality certificate) by the set the parent named as
 * next, and so on. Following the chain this way follows every validator-set
 * change, because each header commits to the set of the next one.
 */
import { HeaderChainError } from "../errors/protocol.ts";
import { type BlockHeader, blockHash } from "./block.ts";
import { equalBytes, toHex } from "./bytes.ts";
import { type FinalityCertificate, verifyFinalityCertificate } from "./finalityCertificate.ts";
import type { SignatureVerifier } from "./signatures/backend.ts";
import { totalPower, type ValidatorSet, validatorSetHash } from "./validatorSet.ts";

export interface TrustedHeader {
  readonly header: BlockHeader;
  /** The set that signed `header` (hashes to `header.validatorsHash`). */
  readonly validators: ValidatorSet;
}

export interface CertifiedHeader {
  readonly header: BlockHeader;
  readonly certificate: FinalityCertificate;
  /** The set claimed to have signed `header`; checked, never trusted. */
  readonly validators: ValidatorSet;
}

/**
 * Throws unless `certified` is a final header of `chainId` signed by its own
 * (claimed) validator set. On its own this proves finality only relative to
 * that set; `verifyNextHeader` ties the set to the trusted chain.
 */
export async function verifyCommittedHeader(
  chainId: string,
  certified: CertifiedHeader,
  verifier: SignatureVerifier,
): Promise<void> {
  const { header, certificate, validators } = certified;
  if (header.chainId !== chainId) {
    throw new HeaderChainError("HEADER_WRONG_CHAIN", "Header belongs to another chain.", {
      details: { expected: chainId, got: header.chainId },
    });
  }
  if (!equalBytes(validatorSetHash(validators), header.validatorsHash)) {
    throw new HeaderChainError(
      "HEADER_VALIDATORS_MISMATCH",
      "The validator set given does not hash to the header's validatorsHash.",
      { details: { height: header.height } },
    );
  }
  await verifyFinalityCertificate(
    certificate,
    { chainId, height: header.height, blockHash: blockHash(header), validators },
    verifier,
  );
}

/** Verifies the header right after `trusted`, returning the new trusted header. */
export async function verifyNextHeader(
  trusted: TrustedHeader,
  next: CertifiedHeader,
  verifier: SignatureVerifier,
): Promise<TrustedHeader> {
  const parent = trusted.header;
  const { header } = next;
  if (header.height !== parent.height + 1) {
    throw new HeaderChainError(
      "HEADER_NOT_NEXT",
      "Header is not the next height after the trusted one.",
      {
        details: { trusted: parent.height, got: header.height },
      },
    );
  }
  if (!equalBytes(header.parentHash, blockHash(parent))) {
    throw new HeaderChainError(
      "HEADER_PARENT_MISMATCH",
      "Header's parentHash is not the trusted header's hash.",
      {
        details: { height: header.height },
      },
    );
  }
  if (header.time <= parent.time) {
    throw new HeaderChainError(
      "HEADER_TIME_NOT_INCREASING",
      "Header time must be later than its parent's.",
      {
        details: { parent: parent.time, got: header.time },
      },
    );
  }
  if (!equalBytes(header.validatorsHash, parent.nextValidatorsHash)) {
    throw new HeaderChainError(
      "HEADER_NEXT_VALIDATORS_MISMATCH",
      "Header is signed by a validator set its parent did not announce.",
      { details: { height: header.height } },
    );
  }
  await verifyCommittedHeader(parent.chainId, next, verifier);
  return { header, validators: next.validators };
}

/** Follows `headers` in order from `trusted`; returns the last one, verified. */
export async function verifyHeaderChain(
  trusted: TrustedHeader,
  headers: Iterable<CertifiedHeader>,
  verifier: SignatureVerifier,
): Promise<TrustedHeader> {
  let current = trusted;
  for (const next of headers) current = await verifyNextHeader(current, next, verifier);
  return current;
}

/**
 * Skipping verification (as in CometBFT's light client): accepts a header
 * more than one height above the trusted one when
 *   1. it is final under its own set: more than 2/3 of the power of the set
 *      that hashes to its validatorsHash signed it (verifyCommittedHeader);
 *   2. members of the trusted header's next set (`trustedNext`, the set that
 *      signs trusted.height + 1) holding more than 1/3 of that set's power
 *      are among its signers.
 * Rule 2 ties the header to the trusted chain: if fewer than 1/3 of a set
 * the client trusts turn Byzantine (within a trusting period the caller
 * enforces), one honest validator signed it, and honest validators sign
 * only the real chain. When rule 2 fails (the set changed too much in
 * between) it throws HEADER_NOT_ENOUGH_TRUST and the caller bisects: it
 * verifies a header in between first, then skips from there.
 */
export async function verifySkippingHeader(
  trusted: TrustedHeader,
  trustedNext: ValidatorSet,
  next: CertifiedHeader,
  verifier: SignatureVerifier,
): Promise<TrustedHeader> {
  const parent = trusted.header;
  const { header, certificate } = next;
  if (header.height === parent.height + 1) return verifyNextHeader(trusted, next, verifier);
  if (header.height <= parent.height) {
    throw new HeaderChainError("HEADER_NOT_NEXT", "Header is not above the trusted one.", {
      details: { trusted: parent.height, got: header.height },
    });
  }
  if (!equalBytes(validatorSetHash(trustedNext), parent.nextValidatorsHash)) {
    throw new HeaderChainError(
      "HEADER_NEXT_VALIDATORS_MISMATCH",
      "The set given as the trusted header's next set does not hash to its nextValidatorsHash.",
      { details: { height: parent.height } },
    );
  }
  if (header.time <= parent.time) {
    throw new HeaderChainError(
      "HEADER_TIME_NOT_INCREASING",
      "Header time must be later than the trusted header's.",
      { details: { trusted: parent.time, got: header.time } },
    );
  }
  await verifyCommittedHeader(parent.chainId, next, verifier);
  // Every signature is valid now; count the trusted set's power among the signers.
  const trustedPower = new Map(trustedNext.map((v) => [toHex(v.publicKey), v.power]));
  let signed = 0n;
  for (const s of certificate.signatures) {
    const key = next.validators[s.validatorIndex]?.publicKey;
    if (key) signed += trustedPower.get(toHex(key)) ?? 0n;
  }
  if (signed * 3n <= totalPower(trustedNext)) {
    throw new HeaderChainError(
      "HEADER_NOT_ENOUGH_TRUST",
      "Too little of the trusted validator set signed this header to skip to it; verify a header in between first.",
      { details: { trusted: parent.height, got: header.height } },
    );
  }
  return { header, validators: next.validators };
}
