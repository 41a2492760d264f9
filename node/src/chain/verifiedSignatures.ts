/**
 * A bounded memory of signatures this node has already verified, keyed by
 * the exact signed bytes: (public key, digest, signature). A block's
 * validity may not depend on what this node happens to hold (DESIGN.md,
 * decision 10), so a cache may only ever answer "this very signature over
 * this very message by this very key verified"; a transaction with the same
 * unsigned hash but another signature is a miss and is checked again. (The
 * cache that came before it was the mempool, looked up by the unsigned
 * transaction hash: a proposer that swapped in a bad signature got a block
 * that nodes holding the transaction accepted and the others refused.)
 *
 * Entries go oldest first once `max` is reached; a miss only costs a check.
 */
import { bytesKey, concatBytes } from "@edgeledger/sdk/protocol";

/** Enough for a full mempool's worth of transactions plus the blocks in flight. */
export const DEFAULT_VERIFIED_SIGNATURES = 100_000;

export class VerifiedSignatures {
  readonly #keys = new Set<string>();
  readonly #max: number;

  constructor(max = DEFAULT_VERIFIED_SIGNATURES) {
    this.#max = max;
  }

  get size(): number {
    return this.#keys.size;
  }

  /** Records that `signature` verified over `digest` under `publicKey`. */
  add(publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): void {
    const key = keyOf(publicKey, digest, signature);
    if (this.#keys.has(key)) return;
    if (this.#keys.size >= this.#max) {
      const oldest = this.#keys.values().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
    this.#keys.add(key);
  }

  has(publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
    return this.#keys.has(keyOf(publicKey, digest, signature));
  }
}

function keyOf(publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): string {
  return bytesKey(concatBytes(publicKey, digest, signature));
}
