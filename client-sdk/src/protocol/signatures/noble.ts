/**
 * The portable backend: `@noble/ed25519` point arithmetic, pure JS, runs
 * everywhere (~850 verifies/s per core here, ~10x slower than native).
 *
 * noble's own `verify` checks the cofactored equation ([8]([S]B − R − [k]A)
 * = 0), which accepts some mixed-order signatures that OpenSSL rejects. We
 * need the cofactorless equation (see rule.ts), so this backend evaluates it
 * with noble's Point: decode A strictly, compute [S]B − [k]A, compare its
 * encoding with R's bytes.
 */
import { Point } from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import { equalBytes } from "../bytes.ts";
import type { Ed25519Backend } from "./backend.ts";

const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function bytesToNumberLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function verifyCofactorless(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    const A = Point.fromBytes(publicKey, false);
    const r = signature.subarray(0, 32);
    const s = bytesToNumberLE(signature.subarray(32, 64));
    if (s >= L) return false;
    const h = new Uint8Array(64 + message.length);
    h.set(r, 0);
    h.set(publicKey, 32);
    h.set(message, 64);
    const k = bytesToNumberLE(sha512(h)) % L;
    const rCheck = Point.BASE.multiply(s, false).subtract(A.multiplyUnsafe(k));
    return equalBytes(rCheck.toBytes(), r);
  } catch {
    return false;
  }
}

export const nobleBackend: Ed25519Backend = {
  name: "noble",
  verify: async (signature, message, publicKey) =>
    verifyCofactorless(signature, message, publicKey),
  verifySync: verifyCofactorless,
};
