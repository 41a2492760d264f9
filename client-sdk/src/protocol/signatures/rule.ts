/**
 * edgeledger's one Ed25519 verification rule (docs/signatures.md).
 *
 * Ed25519 implementations disagree on edge cases: non-canonical encodings,
 * small-order points, S ≥ L, and the cofactored vs cofactorless equation. A
 * disagreement between two validators is a chain split, so every signature
 * goes through `ruleViolation` first and only then to a backend. With these
 * pre-checks every backend we ship computes the same answer:
 *
 *   1. A (public key) and R (first half of the signature) are canonical
 *      encodings (y < p) and are not one of the eight small-order points.
 *   2. S (second half) is reduced: S < L.
 *   3. The cofactorless equation holds: encode([S]B − [k]A) == R, with
 *      k = SHA-512(R ‖ A ‖ M) mod L.
 *
 * Rule 3 is what OpenSSL (node:crypto, WebCrypto in Node) computes; the noble
 * backend computes the same equation with noble's point arithmetic. The
 * checks here are byte comparisons (no point decompression), so they cost
 * well under a microsecond and do not slow the native fast path.
 */
import { fromHex } from "../bytes.ts";
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from "../keys.ts";

export type RuleViolation =
  | "SIGNATURE_LENGTH"
  | "PUBLIC_KEY_LENGTH"
  | "PUBLIC_KEY_NON_CANONICAL"
  | "PUBLIC_KEY_SMALL_ORDER"
  | "R_NON_CANONICAL"
  | "R_SMALL_ORDER"
  | "S_NOT_REDUCED";

/**
 * The y coordinates (little-endian, sign bit cleared) of the eight small-order
 * points: y = 1 (identity), y = p−1 (order 2), y = 0 (order 4) and the two y
 * values of the four order-8 points. A canonical encoding with one of these y
 * is a small-order point whatever its sign bit says.
 */
const SMALL_ORDER_Y = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
].map((h) => fromHex(h));

/** L, the prime order of the base point, little-endian. */
const L_LE = fromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

/** y ≥ p = 2^255 − 19, for a little-endian encoding with the sign bit (bit 255) ignored. */
function isNonCanonicalY(enc: Uint8Array, offset: number): boolean {
  if ((enc[offset + 31]! & 0x7f) !== 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (enc[offset + i] !== 0xff) return false;
  return enc[offset]! >= 0xed;
}

function isSmallOrderY(enc: Uint8Array, offset: number): boolean {
  outer: for (const y of SMALL_ORDER_Y) {
    for (let i = 0; i < 31; i++) if (enc[offset + i] !== y[i]) continue outer;
    if ((enc[offset + 31]! & 0x7f) === y[31]) return true;
  }
  return false;
}

/** S < L, for the little-endian scalar at `sig[32..64]`. */
function isReducedScalar(sig: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = sig[32 + i]!;
    const l = L_LE[i]!;
    if (s < l) return true;
    if (s > l) return false;
  }
  return false; // S == L
}

/**
 * Why `publicKey` can never verify under the rule, or null. Lets a signer
 * whose key lives elsewhere be refused when it is set up, not at first use.
 */
export function publicKeyViolation(
  publicKey: Uint8Array,
): "PUBLIC_KEY_LENGTH" | "PUBLIC_KEY_NON_CANONICAL" | "PUBLIC_KEY_SMALL_ORDER" | null {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) return "PUBLIC_KEY_LENGTH";
  if (isNonCanonicalY(publicKey, 0)) return "PUBLIC_KEY_NON_CANONICAL";
  if (isSmallOrderY(publicKey, 0)) return "PUBLIC_KEY_SMALL_ORDER";
  return null;
}

/** Why (signature, publicKey) breaks the rule's encoding checks, or null if it passes them. */
export function ruleViolation(signature: Uint8Array, publicKey: Uint8Array): RuleViolation | null {
  if (signature.length !== SIGNATURE_LENGTH) return "SIGNATURE_LENGTH";
  const keyViolation = publicKeyViolation(publicKey);
  if (keyViolation !== null) return keyViolation;
  if (isNonCanonicalY(signature, 0)) return "R_NON_CANONICAL";
  if (isSmallOrderY(signature, 0)) return "R_SMALL_ORDER";
  if (!isReducedScalar(signature)) return "S_NOT_REDUCED";
  return null;
}
