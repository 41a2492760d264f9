/**
 * @edgeledger/sdk/wallet: keys and where they live.
 *
 * Owns creating keys, exporting and importing them (hex, and password-
 * encrypted keystore files), and signers for keys held elsewhere. It builds
 * on the protocol's `SecretKey` and its one `Signer` interface (re-exported
 * here, so a wallet needs one import) and does no I/O: reading and writing
 * files, prompting for passwords and talking to devices are the caller's.
 * No Node built-ins: it runs in browsers, workers and Node.
 */
export {
  KeystoreError,
  type KeystoreErrorCode,
  SignerError,
  type SignerErrorCode,
} from "../errors/wallet.ts";
export { localSigner, SecretKey, type Signer } from "../protocol/keys.ts";
export {
  type DecryptKeystoreOptions,
  decryptKeystore,
  type EncryptKeystoreOptions,
  encryptKeystore,
  KEYSTORE_DEFAULTS,
  KEYSTORE_LIMITS,
  KEYSTORE_VERSION,
  type KeystoreJson,
  type ScryptParams,
} from "./keystore.ts";
export { type CreateSignerOptions, createSigner } from "./signer.ts";
