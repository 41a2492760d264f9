/**
 * Signature verification behind one interface, with the rule in front.
 *
 * A backend gives its own raw answer and never throws (malformed input is
 * `false`). `createVerifier` puts edgeledger's rule in front of it; only
 * verifiers are used by protocol code, so no caller can reach a backend's
 * own, different, edge-case behaviour.
 */
import { ruleViolation } from "./rule.ts";

export interface Ed25519Backend {
  readonly name: string;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean>;
  /** Present where the backend can answer synchronously (native, noble). */
  readonly verifySync?: (
    signature: Uint8Array,
    message: Uint8Array,
    publicKey: Uint8Array,
  ) => boolean;
}

export interface SignatureVerifier {
  readonly backend: string;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean>;
  readonly verifySync?: (
    signature: Uint8Array,
    message: Uint8Array,
    publicKey: Uint8Array,
  ) => boolean;
}

export function createVerifier(backend: Ed25519Backend): SignatureVerifier {
  const sync = backend.verifySync;
  return {
    backend: backend.name,
    async verify(signature, message, publicKey) {
      if (ruleViolation(signature, publicKey) !== null) return false;
      return backend.verify(signature, message, publicKey);
    },
    ...(sync && {
      verifySync(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) {
        if (ruleViolation(signature, publicKey) !== null) return false;
        return sync(signature, message, publicKey);
      },
    }),
  };
}
