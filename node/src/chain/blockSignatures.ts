/**
 * Every signature inside blocks made by someone else: their transactions'
 * and the votes in their evidence. Used for proposed blocks (consensus) and
 * synced ones (block sync), which hands a whole range at once so the
 * transactions go to the worker pool as one batch.
 *
 * The only shortcut is VerifiedSignatures, keyed by the exact signed bytes:
 * whether a block is valid depends on the block and the chain alone, never
 * on what this node's mempool or evidence pool holds (DESIGN.md, decision 10).
 */
import {
  type Block,
  type SignatureVerifier,
  transactionHash,
  type ValidatorSet,
  verifyEvidence,
} from "@edgeledger/sdk/protocol";
import type { VerifierPool } from "@edgeledger/sdk/protocol/node";
import type { VerifiedSignatures } from "./verifiedSignatures.ts";

export interface BlockSignatureDeps {
  readonly chainId: string;
  /** Transaction signatures not seen verified before go here, in one batch. */
  readonly verifierPool: Pick<VerifierPool, "verifyBatch">;
  /** For evidence votes; wrap it with `cachingVerifier` so repeats cost nothing. */
  readonly verifier: SignatureVerifier;
  readonly verified: VerifiedSignatures;
  /** The set that signs `height` (evidence must be by one of its members). */
  readonly validatorsAt: (height: number) => ValidatorSet;
}

export type BlockSignatureCheck = (blocks: readonly Block[]) => Promise<boolean>;

export function blockSignatureCheck(deps: BlockSignatureDeps): BlockSignatureCheck {
  const { chainId, verifierPool, verifier, verified, validatorsAt } = deps;
  return async (blocks) => {
    const items = [];
    for (const block of blocks)
      for (const stx of block.txs) {
        const digest = transactionHash(stx.tx);
        if (verified.has(stx.tx.from, digest, stx.signature)) continue;
        items.push({ signature: stx.signature, digest, publicKey: stx.tx.from });
      }
    const verdicts = await verifierPool.verifyBatch(items);
    if (!verdicts.every(Boolean)) return false;
    for (const item of items) verified.add(item.publicKey, item.digest, item.signature);
    for (const block of blocks)
      for (const e of block.evidence) {
        try {
          await verifyEvidence(chainId, e, validatorsAt(e.first.vote.height), verifier);
        } catch {
          return false;
        }
      }
    return true;
  };
}

/**
 * `verifier`, remembering what verified in `verified` (keyed by the exact
 * signed bytes) and answering repeats from it. Only successes are kept: a
 * bad signature costs its sender a check every time, which gossip scoring
 * makes it pay for.
 */
export function cachingVerifier(
  verifier: SignatureVerifier,
  verified: VerifiedSignatures,
): SignatureVerifier & { verifySync: NonNullable<SignatureVerifier["verifySync"]> } {
  // Node's native verifier answers synchronously; gossip validation relies on it.
  const sync = verifier.verifySync;
  if (!sync) throw new Error("cachingVerifier needs a verifier with verifySync");
  const verifySync = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => {
    if (verified.has(publicKey, message, signature)) return true;
    const ok = sync(signature, message, publicKey);
    if (ok) verified.add(publicKey, message, signature);
    return ok;
  };
  return {
    backend: verifier.backend,
    verifySync,
    verify: async (signature, message, publicKey) => {
      if (verified.has(publicKey, message, signature)) return true;
      const ok = await verifier.verify(signature, message, publicKey);
      if (ok) verified.add(publicKey, message, signature);
      return ok;
    },
  };
}
