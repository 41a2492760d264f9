/**
 * The node's signature checking, built once and shared: the worker pool
 * that verifies batches off the main thread, one memory of verified
 * signatures keyed by the exact signed bytes (verifiedSignatures.ts), a
 * native verifier that consults it, and the block check built on them
 * (blockSignatures.ts). Admission, gossip validation, proposals and block
 * sync all use these, so a signature is checked once wherever it arrives.
 */
import type { SignatureVerifier, ValidatorSet } from "@edgeledger/sdk/protocol";
import {
  createNativeVerifier,
  createVerifierPool,
  type VerifierPool,
} from "@edgeledger/sdk/protocol/node";
import {
  type BlockSignatureCheck,
  blockSignatureCheck,
  cachingVerifier,
} from "./blockSignatures.ts";
import { VerifiedSignatures } from "./verifiedSignatures.ts";

export interface SignatureChecks {
  readonly verifierPool: VerifierPool;
  readonly verified: VerifiedSignatures;
  /** Native, and free for a signature already verified. */
  readonly verifier: SignatureVerifier & ReturnType<typeof cachingVerifier>;
  readonly verifyBlockSignatures: BlockSignatureCheck;
  /** Stops the worker threads. */
  close(): Promise<void>;
}

export function createSignatureChecks(
  chainId: string,
  validatorsAt: (height: number) => ValidatorSet,
): SignatureChecks {
  const verifierPool = createVerifierPool();
  const verified = new VerifiedSignatures();
  const verifier = cachingVerifier(createNativeVerifier(), verified);
  return {
    verifierPool,
    verified,
    verifier,
    verifyBlockSignatures: blockSignatureCheck({
      chainId,
      verifierPool,
      verifier,
      verified,
      validatorsAt,
    }),
    close: () => verifierPool.close(),
  };
}
