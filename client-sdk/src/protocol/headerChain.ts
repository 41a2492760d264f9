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
import { equalBytes } from "./bytes.ts";
import { type FinalityCertificate, verifyFinalityCertificate } from "./finalityCertificate.ts";
import type { SignatureVerifier } from "./signatures/backend.ts";
import { type ValidatorSet, validatorSetHash } from "./validatorSet.ts";

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
