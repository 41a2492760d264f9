/**
 * Signers for keys held elsewhere: a hardware wallet, a KMS, a browser
 * extension, a non-extractable WebCrypto key.
 *
 * `createSigner` turns such a key's signing function into the SDK's one
 * `Signer` interface (protocol/keys.ts) and checks what comes back: a
 * 64-byte signature that verifies, under edgeledger's rule, for the signer's
 * public key and the digest. A remote signer that signs with another key, or
 * over other bytes, then fails at once with a typed `SignerError`, instead of
 * producing transactions every node rejects.
 */
import { SignerError } from "../errors/wallet.ts";
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, type Signer } from "../protocol/keys.ts";
import type { SignatureVerifier } from "../protocol/signatures/backend.ts";
import { createDefaultVerifier } from "../protocol/signatures/index.ts";
import { publicKeyViolation } from "../protocol/signatures/rule.ts";

export interface CreateSignerOptions {
  /** The 32-byte Ed25519 public key the signing function signs for. */
  publicKey: Uint8Array;
  /**
   * Signs a 32-byte signing digest with the key held elsewhere and returns
   * the 64-byte Ed25519 signature (an ArrayBuffer, as WebCrypto's `sign`
   * gives, is accepted too). It gets its own copy of the digest.
   */
  sign: (
    digest: Uint8Array<ArrayBuffer>,
  ) => Promise<Uint8Array | ArrayBuffer> | Uint8Array | ArrayBuffer;
  /**
   * Verifies every signature before handing it out. Default: the best
   * portable verifier for this runtime (`createDefaultVerifier`), made on
   * first use; pass another (e.g. the native one on Node), or `false` to
   * skip the check (it costs about one verification per signature).
   */
  verify?: SignatureVerifier | false;
}

export function createSigner(options: CreateSignerOptions): Signer {
  const { publicKey: given, sign, verify } = options;
  if (!(given instanceof Uint8Array)) {
    throw new SignerError("SIGNER_INVALID_PUBLIC_KEY", "The public key must be a Uint8Array.", {
      details: { got: typeof given },
    });
  }
  const violation = publicKeyViolation(given);
  if (violation !== null) {
    throw new SignerError(
      "SIGNER_INVALID_PUBLIC_KEY",
      violation === "PUBLIC_KEY_LENGTH"
        ? `An Ed25519 public key is ${PUBLIC_KEY_LENGTH} bytes; check the key's format (raw, not DER or hex).`
        : "This public key can never verify under edgeledger's signature rule; check the key you were given.",
      { details: { reason: violation, length: given.length } },
    );
  }
  if (typeof sign !== "function") {
    throw new SignerError("SIGNER_FAILED", "`sign` must be a function.", {
      details: { got: typeof sign },
    });
  }
  // Our own copy: a caller mutating its array cannot change whom we sign as.
  const publicKey = given.slice();
  let defaultVerifier: Promise<SignatureVerifier> | undefined;
  const verifier: (() => Promise<SignatureVerifier>) | null =
    verify === false
      ? null
      : verify !== undefined
        ? async () => verify
        : () => {
            defaultVerifier ??= createDefaultVerifier();
            return defaultVerifier;
          };

  return {
    publicKey,
    async sign(digest) {
      let answer: Uint8Array | ArrayBuffer;
      try {
        // A copy: digests such as `transactionHash`'s are shared, and the
        // signing function is code we do not control.
        answer = await sign(digest.slice());
      } catch (err) {
        throw new SignerError(
          "SIGNER_FAILED",
          "The signer did not sign (see the cause): check the device, service or extension that holds the key.",
          { cause: err },
        );
      }
      // Copies, so the signing function cannot change them after the check.
      const signature =
        answer instanceof Uint8Array
          ? answer.slice()
          : answer instanceof ArrayBuffer
            ? new Uint8Array(answer.slice(0))
            : undefined;
      if (signature?.length !== SIGNATURE_LENGTH) {
        throw new SignerError(
          "SIGNER_INVALID_SIGNATURE",
          `The signer returned something that is not a ${SIGNATURE_LENGTH}-byte Ed25519 signature; check it returns raw bytes (not DER, hex or base64).`,
          { details: { got: signature ? signature.length : typeof answer } },
        );
      }
      if (verifier) {
        const checker = await verifier();
        if (!(await checker.verify(signature, digest, publicKey))) {
          throw new SignerError(
            "SIGNER_BAD_SIGNATURE",
            "The signer's signature does not verify for its public key: it signs with another key or over other bytes. Check the key it was set up with.",
            { details: { verifier: checker.backend } },
          );
        }
      }
      return signature;
    },
  };
}
