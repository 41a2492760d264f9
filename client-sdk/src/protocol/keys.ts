/**
 * Ed25519 keys and signers.
 *
 * A `SecretKey` keeps its seed in a private field and redacts itself when
 * logged, stringified, inspected or JSON-serialised, so a stray
 * `console.log(config)` or structured log line cannot leak it. The bytes
 * come out only through the explicit `exportSeed()`. Signing goes through the
 * `Signer` interface so keys can live elsewhere (hardware, KMS, extension):
 * `createSigner` in `@edgeledger/sdk/wallet` wraps such a key and checks it.
 */
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import { KeyError } from "../errors/protocol.ts";
import { fromHex, toHex } from "./bytes.ts";

export const PUBLIC_KEY_LENGTH = 32;
export const SECRET_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

function ensureNobleSha512(): void {
  // noble's synchronous API needs a sha512; ours is the audited @noble/hashes one.
  if (!ed.hashes.sha512) ed.hashes.sha512 = sha512;
}

const REDACTED = "[SecretKey redacted]";

export class SecretKey {
  readonly #seed: Uint8Array;
  readonly publicKey: Uint8Array;

  private constructor(seed: Uint8Array) {
    if (!(seed instanceof Uint8Array) || seed.length !== SECRET_KEY_LENGTH) {
      throw new KeyError(
        "KEY_INVALID_LENGTH",
        `An Ed25519 secret key is ${SECRET_KEY_LENGTH} bytes.`,
        {
          details: { got: seed instanceof Uint8Array ? seed.length : typeof seed },
        },
      );
    }
    ensureNobleSha512();
    this.#seed = seed.slice();
    this.publicKey = ed.getPublicKey(this.#seed);
  }

  static generate(): SecretKey {
    return new SecretKey(ed.utils.randomSecretKey());
  }

  static fromSeed(seed: Uint8Array): SecretKey {
    return new SecretKey(seed);
  }

  static fromHex(hex: string): SecretKey {
    return new SecretKey(fromHex(hex, SECRET_KEY_LENGTH));
  }

  /** Signs `message` (for protocol objects: their 32-byte signing digest). */
  sign(message: Uint8Array): Uint8Array {
    ensureNobleSha512();
    return ed.sign(message, this.#seed);
  }

  /** The 32-byte seed. The only way to get the secret out: call it on purpose. */
  exportSeed(): Uint8Array {
    return this.#seed.slice();
  }

  exportHex(): string {
    return toHex(this.#seed);
  }

  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }
}

/**
 * Something that can sign digests for one public key, wherever the key lives:
 * `sign` returns the 64-byte Ed25519 signature of `digest` (a 32-byte signing
 * digest, e.g. `transactionHash`) by the key whose public key is `publicKey`.
 */
export interface Signer {
  readonly publicKey: Uint8Array;
  sign(digest: Uint8Array): Promise<Uint8Array>;
}

export function localSigner(key: SecretKey): Signer {
  return {
    publicKey: key.publicKey,
    sign: async (digest) => key.sign(digest),
  };
}
