/**
 * Errors raised by the wallet (`@edgeledger/sdk/wallet`): opening and writing
 * keystore files, and signers whose keys live elsewhere. Messages and details
 * name fields, sizes and limits; never a password, a seed or a derived key.
 */
import { BaseError } from "./base.ts";

export type KeystoreErrorCode =
  /** Not a keystore: not JSON, a field missing, unknown or of the wrong type or length. */
  | "KEYSTORE_MALFORMED"
  /** A version, KDF, cipher or cost this SDK does not open (costs are bounded on purpose). */
  | "KEYSTORE_UNSUPPORTED"
  /** The password is wrong, or the file was changed: AES-GCM cannot tell the two apart. */
  | "KEYSTORE_WRONG_PASSWORD"
  /** The file decrypts, but its key is not the public key it names: it was written wrongly. */
  | "KEYSTORE_KEY_MISMATCH"
  /** Called with a password or options it cannot use (e.g. an empty password to encrypt). */
  | "KEYSTORE_INVALID_OPTIONS";

export class KeystoreError extends BaseError<KeystoreErrorCode> {
  override name = "KeystoreError";
}

export type SignerErrorCode =
  /** The public key a custom signer was created with is not a usable Ed25519 key. */
  | "SIGNER_INVALID_PUBLIC_KEY"
  /** The signing function threw or rejected (see `cause`). */
  | "SIGNER_FAILED"
  /** The signing function returned something that is not a 64-byte signature. */
  | "SIGNER_INVALID_SIGNATURE"
  /** The signature does not verify for the signer's public key and the digest. */
  | "SIGNER_BAD_SIGNATURE";

/** A signer whose key lives elsewhere (hardware, KMS, extension) misbehaved. */
export class SignerError extends BaseError<SignerErrorCode> {
  override name = "SignerError";
}
