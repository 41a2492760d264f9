/**
 * Password-encrypted keystore files (docs/wallet.md#keystore-files).
 *
 * A keystore is a JSON object, version 1:
 *
 *   {
 *     "version": 1,
 *     "address": "el1…",                      the key's address (bech32m)
 *     "publicKey": "<32 bytes hex>",
 *     "crypto": {
 *       "kdf": "scrypt",
 *       "kdfparams": { "n": 131072, "r": 8, "p": 1, "dklen": 32, "salt": "<16-64 bytes hex>" },
 *       "cipher": "aes-256-gcm",
 *       "iv": "<12 bytes hex>",
 *       "ciphertext": "<48 bytes hex: the 32-byte seed encrypted, then the 16-byte tag>"
 *     }
 *   }
 *
 * key = scrypt(NFKC(password) as UTF-8, salt, n, r, p, dklen 32), the seed is
 * sealed with AES-256-GCM under that key, and the additional data
 * (`keystoreAdditionalData`) binds the version, public key, address, KDF,
 * its parameters and the cipher, so none of them can be swapped without
 * decryption failing.
 *
 * Decryption refuses before any work whatever it does not know (versions,
 * fields, algorithms) and any cost beyond `KEYSTORE_LIMITS`, so a hostile
 * file cannot make us allocate gigabytes or spin for minutes. Scrypt runs
 * through `@noble/hashes` (pure JS, yields to the event loop every 10 ms),
 * AES-GCM through WebCrypto: no Node built-in, so this runs in browsers,
 * workers and Node alike. Errors are `KeystoreError`s that name fields and
 * limits, never the password or the seed.
 *
 * Long on purpose: the encrypted keystore format (scrypt, AES-GCM,
 * versioning) and its checks in one file, as a format should be read.
 */
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { RuntimeSupportError } from "../errors/protocol.ts";
import { KeystoreError } from "../errors/wallet.ts";
import { addressFromPublicKey, formatAddress, parseAddress } from "../protocol/address.ts";
import { concatBytes, equalBytes, fromHex, toHex, utf8 } from "../protocol/bytes.ts";
import { PUBLIC_KEY_LENGTH, SECRET_KEY_LENGTH, SecretKey } from "../protocol/keys.ts";

export const KEYSTORE_VERSION = 1;

export interface KeystoreJson {
  readonly version: 1;
  readonly address: string;
  readonly publicKey: string;
  readonly crypto: {
    readonly kdf: "scrypt";
    readonly kdfparams: {
      readonly n: number;
      readonly r: number;
      readonly p: number;
      readonly dklen: 32;
      readonly salt: string;
    };
    readonly cipher: "aes-256-gcm";
    readonly iv: string;
    readonly ciphertext: string;
  };
}

/**
 * Scrypt parameters written by default: N = 2^17, r = 8, p = 1, as ethers
 * writes Ethereum keystores (geth's "standard" is N = 2^18): 128 MiB and
 * about 0.6 s on one core of the machine the tests were written on.
 */
export const KEYSTORE_DEFAULTS = { n: 2 ** 17, r: 8, p: 1, saltLength: 32 } as const;

/**
 * What a keystore may ask for, checked before any work on both encrypt and
 * decrypt (so we never write a file we would refuse). Memory is scrypt's
 * 128·n·r bytes; 256 MiB admits Ethereum's standard N = 2^18, r = 8. Work is
 * n·r·p; 2^22 is four times our default, a few seconds here.
 */
export const KEYSTORE_LIMITS = {
  maxN: 2 ** 20,
  maxR: 32,
  maxP: 16,
  maxMemoryBytes: 256 * 2 ** 20,
  maxWork: 2 ** 22,
  minSaltBytes: 16,
  maxSaltBytes: 64,
} as const;

const KDF = "scrypt";
const CIPHER = "aes-256-gcm";
const DKLEN = 32;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const CIPHERTEXT_LENGTH = SECRET_KEY_LENGTH + TAG_LENGTH;
/** A keystore is under 1 KiB; a string much longer is not one, so it is not parsed. */
const MAX_KEYSTORE_CHARS = 16 * 1024;

export interface ScryptParams {
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

export interface EncryptKeystoreOptions {
  /** scrypt cost N, a power of two. Default 2^17; lower it only in tests. */
  n?: number;
  /** scrypt block size r. Default 8. */
  r?: number;
  /** scrypt parallelism p. Default 1. */
  p?: number;
  /**
   * A fixed salt (16-64 bytes) and IV (12 bytes), for test vectors only.
   * Left out, both are random, as they must be: two keys sealed with the same
   * password, salt and IV reuse an AES-GCM nonce, which leaks the XOR of
   * their seeds.
   */
  salt?: Uint8Array;
  iv?: Uint8Array;
  /** Called with the fraction of the key derivation done (0..1), e.g. for a progress bar. */
  onProgress?: (fraction: number) => void;
}

export interface DecryptKeystoreOptions {
  /** Called with the fraction of the key derivation done (0..1). */
  onProgress?: (fraction: number) => void;
}

/** Encrypts `key` under `password` into a version-1 keystore (a JSON-ready object). */
export async function encryptKeystore(
  key: SecretKey,
  password: string,
  options: EncryptKeystoreOptions = {},
): Promise<KeystoreJson> {
  if (!(key instanceof SecretKey)) {
    throw invalidOptions("The key to encrypt must be a SecretKey.", { got: typeof key });
  }
  if (typeof password !== "string" || password.length === 0) {
    throw invalidOptions("Choose a non-empty password; an empty one protects nothing.");
  }
  const params = {
    n: options.n ?? KEYSTORE_DEFAULTS.n,
    r: options.r ?? KEYSTORE_DEFAULTS.r,
    p: options.p ?? KEYSTORE_DEFAULTS.p,
  };
  const paramProblem = scryptParamsProblem(params);
  if (paramProblem) throw invalidOptions(`scrypt ${paramProblem}`, { ...params });
  const subtle = requireSubtle();
  const salt = options.salt?.slice() ?? randomBytes(KEYSTORE_DEFAULTS.saltLength);
  if (salt.length < KEYSTORE_LIMITS.minSaltBytes || salt.length > KEYSTORE_LIMITS.maxSaltBytes) {
    throw invalidOptions(
      `The salt is ${KEYSTORE_LIMITS.minSaltBytes}-${KEYSTORE_LIMITS.maxSaltBytes} bytes; leave it out to get a random one.`,
      { got: salt.length },
    );
  }
  const iv = options.iv?.slice() ?? randomBytes(IV_LENGTH);
  if (iv.length !== IV_LENGTH) {
    throw invalidOptions(`The IV is ${IV_LENGTH} bytes; leave it out to get a random one.`, {
      got: iv.length,
    });
  }

  const address = formatAddress(addressFromPublicKey(key.publicKey));
  const additionalData = keystoreAdditionalData({
    version: KEYSTORE_VERSION,
    publicKey: key.publicKey,
    address,
    kdfparams: { ...params, salt },
  });
  const cryptoKey = await deriveKey(subtle, password, salt, params, options.onProgress, "encrypt");
  const seed = key.exportSeed() as Uint8Array<ArrayBuffer>;
  let sealed: ArrayBuffer;
  try {
    sealed = await subtle.encrypt(
      { name: "AES-GCM", iv, additionalData, tagLength: TAG_LENGTH * 8 },
      cryptoKey,
      seed,
    );
  } finally {
    seed.fill(0);
  }
  return {
    version: KEYSTORE_VERSION,
    address,
    publicKey: toHex(key.publicKey),
    crypto: {
      kdf: KDF,
      kdfparams: { n: params.n, r: params.r, p: params.p, dklen: DKLEN, salt: toHex(salt) },
      cipher: CIPHER,
      iv: toHex(iv),
      ciphertext: toHex(new Uint8Array(sealed)),
    },
  };
}

/**
 * Opens a keystore: `json` is the file's text or its parsed object. Checks
 * the whole file and its costs before deriving anything.
 */
export async function decryptKeystore(
  json: unknown,
  password: string,
  options: DecryptKeystoreOptions = {},
): Promise<SecretKey> {
  if (typeof password !== "string") {
    throw invalidOptions("The password must be a string.", { got: typeof password });
  }
  const file = parseKeystore(json);
  const subtle = requireSubtle();
  const cryptoKey = await deriveKey(
    subtle,
    password,
    file.kdfparams.salt,
    file.kdfparams,
    options.onProgress,
    "decrypt",
  );
  let plaintext: Uint8Array;
  try {
    plaintext = new Uint8Array(
      await subtle.decrypt(
        {
          name: "AES-GCM",
          iv: file.iv,
          additionalData: keystoreAdditionalData(file),
          tagLength: TAG_LENGTH * 8,
        },
        cryptoKey,
        file.ciphertext,
      ),
    );
  } catch (err) {
    // AES-GCM's only failure here is the tag check: the key (so the
    // password) is wrong, or some authenticated byte of the file changed.
    throw new KeystoreError(
      "KEYSTORE_WRONG_PASSWORD",
      "Wrong password, or the keystore file was changed. Check the password; if it is right, restore the file from a backup.",
      { details: { address: file.address }, cause: err },
    );
  }
  let key: SecretKey;
  try {
    key = SecretKey.fromSeed(plaintext);
  } finally {
    plaintext.fill(0);
  }
  if (!equalBytes(key.publicKey, file.publicKey)) {
    throw new KeystoreError(
      "KEYSTORE_KEY_MISMATCH",
      "The keystore decrypts, but to a key that is not its public key: it was written wrongly. Do not use it; restore the key from another backup.",
      { details: { address: file.address } },
    );
  }
  return key;
}

interface ParsedKeystore {
  readonly version: number;
  readonly address: string;
  readonly publicKey: Uint8Array<ArrayBuffer>;
  readonly kdfparams: ScryptParams & { readonly salt: Uint8Array<ArrayBuffer> };
  readonly iv: Uint8Array<ArrayBuffer>;
  readonly ciphertext: Uint8Array<ArrayBuffer>;
}

/**
 * The AES-GCM additional data of a version-1 keystore:
 *
 *   utf8("edgeledger/keystore/v1") ‖ 0x00 ‖ publicKey (32) ‖ address (20 bytes)
 *   ‖ u8 len ‖ "scrypt" ‖ u32 n ‖ u32 r ‖ u32 p ‖ u32 dklen ‖ u8 len ‖ salt
 *   ‖ u8 len ‖ "aes-256-gcm"
 *
 * (integers big-endian). Exported for the tests, which check it against an
 * independent implementation of docs/wallet.md.
 */
export function keystoreAdditionalData(file: {
  readonly version: number;
  readonly publicKey: Uint8Array;
  readonly address: string;
  readonly kdfparams: ScryptParams & { readonly salt: Uint8Array };
}): Uint8Array<ArrayBuffer> {
  const { n, r, p, salt } = file.kdfparams;
  const numbers = new Uint8Array(16);
  const view = new DataView(numbers.buffer);
  view.setUint32(0, n);
  view.setUint32(4, r);
  view.setUint32(8, p);
  view.setUint32(12, DKLEN);
  const kdf = utf8(KDF);
  const cipher = utf8(CIPHER);
  return concatBytes(
    utf8(`edgeledger/keystore/v${file.version}`),
    Uint8Array.of(0),
    file.publicKey,
    parseAddress(file.address),
    Uint8Array.of(kdf.length),
    kdf,
    numbers,
    Uint8Array.of(salt.length),
    salt,
    Uint8Array.of(cipher.length),
    cipher,
  ) as Uint8Array<ArrayBuffer>;
}

/** What is wrong with these scrypt parameters, or null if they are within `KEYSTORE_LIMITS`. */
function scryptParamsProblem({ n, r, p }: ScryptParams): string | null {
  const L = KEYSTORE_LIMITS;
  if (!Number.isSafeInteger(n) || n < 2 || n > L.maxN || (n & (n - 1)) !== 0) {
    return `n must be a power of two from 2 to 2^${Math.log2(L.maxN)}.`;
  }
  if (!Number.isSafeInteger(r) || r < 1 || r > L.maxR) return `r must be from 1 to ${L.maxR}.`;
  if (!Number.isSafeInteger(p) || p < 1 || p > L.maxP) return `p must be from 1 to ${L.maxP}.`;
  if (128 * n * r > L.maxMemoryBytes) {
    return `memory 128·n·r must be at most ${L.maxMemoryBytes / 2 ** 20} MiB.`;
  }
  if (n * r * p > L.maxWork) return `work n·r·p must be at most 2^${Math.log2(L.maxWork)}.`;
  return null;
}

const TOP_FIELDS = ["version", "address", "publicKey", "crypto"];
const CRYPTO_FIELDS = ["kdf", "kdfparams", "cipher", "iv", "ciphertext"];
const KDFPARAMS_FIELDS = ["n", "r", "p", "dklen", "salt"];

function parseKeystore(json: unknown): ParsedKeystore {
  let value = json;
  if (typeof json === "string") {
    if (json.length > MAX_KEYSTORE_CHARS) {
      throw malformed(`A keystore is under ${MAX_KEYSTORE_CHARS} characters; this is not one.`, {
        length: json.length,
      });
    }
    try {
      value = JSON.parse(json);
    } catch {
      // Not chained as the cause: a parser's message quotes the input, and
      // the string passed by mistake could be a password or a seed.
      throw malformed("The keystore is not JSON; check you chose the right file.");
    }
  }
  const top = record(value, "(keystore)");
  // The version decides what the rest means, so it is checked first.
  if (typeof top["version"] !== "number") {
    throw malformed("The keystore has no numeric `version`; check you chose the right file.");
  }
  if (top["version"] !== KEYSTORE_VERSION) {
    throw new KeystoreError(
      "KEYSTORE_UNSUPPORTED",
      `This SDK opens keystore version ${KEYSTORE_VERSION}; the file is another version (or another wallet's format). Use the tool that wrote it, or a newer SDK.`,
      { details: { version: top["version"] } },
    );
  }
  exactFields(top, TOP_FIELDS, "(keystore)");
  const crypto = record(top["crypto"], "crypto");
  exactFields(crypto, CRYPTO_FIELDS, "crypto");
  if (crypto["kdf"] !== KDF) {
    throw unsupported(`This SDK's keystores use the KDF "${KDF}".`, "crypto.kdf", crypto["kdf"]);
  }
  if (crypto["cipher"] !== CIPHER) {
    throw unsupported(
      `This SDK's keystores use the cipher "${CIPHER}".`,
      "crypto.cipher",
      crypto["cipher"],
    );
  }
  const kdfparams = record(crypto["kdfparams"], "crypto.kdfparams");
  exactFields(kdfparams, KDFPARAMS_FIELDS, "crypto.kdfparams");
  if (kdfparams["dklen"] !== DKLEN) {
    throw unsupported(
      `Keystores derive a ${DKLEN}-byte key.`,
      "crypto.kdfparams.dklen",
      kdfparams["dklen"],
    );
  }
  const params = {
    n: integer(kdfparams["n"], "crypto.kdfparams.n"),
    r: integer(kdfparams["r"], "crypto.kdfparams.r"),
    p: integer(kdfparams["p"], "crypto.kdfparams.p"),
  };
  const paramProblem = scryptParamsProblem(params);
  if (paramProblem) {
    throw new KeystoreError(
      "KEYSTORE_UNSUPPORTED",
      `The keystore asks for scrypt costs beyond this SDK's limits: ${paramProblem} Re-encrypt the key with the default parameters.`,
      { details: { ...params } },
    );
  }
  const salt = hexField(
    kdfparams["salt"],
    "crypto.kdfparams.salt",
    KEYSTORE_LIMITS.minSaltBytes,
    KEYSTORE_LIMITS.maxSaltBytes,
  );
  const iv = hexField(crypto["iv"], "crypto.iv", IV_LENGTH, IV_LENGTH);
  const ciphertext = hexField(
    crypto["ciphertext"],
    "crypto.ciphertext",
    CIPHERTEXT_LENGTH,
    CIPHERTEXT_LENGTH,
  );
  const publicKey = hexField(top["publicKey"], "publicKey", PUBLIC_KEY_LENGTH, PUBLIC_KEY_LENGTH);
  const address = top["address"];
  let addressBytes: Uint8Array;
  try {
    if (typeof address !== "string") throw new TypeError("not a string");
    addressBytes = parseAddress(address);
  } catch (err) {
    throw malformed("The keystore's `address` is not an edgeledger address.", {}, err);
  }
  if (!equalBytes(addressBytes, addressFromPublicKey(publicKey))) {
    throw malformed("The keystore's `address` is not the address of its `publicKey`.", {
      address,
    });
  }
  return {
    version: KEYSTORE_VERSION,
    address,
    publicKey,
    kdfparams: { ...params, salt },
    iv,
    ciphertext,
  };
}

async function deriveKey(
  subtle: SubtleCrypto,
  password: string,
  salt: Uint8Array,
  { n, r, p }: ScryptParams,
  onProgress: ((fraction: number) => void) | undefined,
  usage: "encrypt" | "decrypt",
): Promise<CryptoKey> {
  // NFKC, so the same password typed on systems that compose accents
  // differently gives the same key.
  const passwordBytes = utf8(password.normalize("NFKC"));
  let derived: Uint8Array | undefined;
  try {
    derived = await scryptAsync(passwordBytes, salt, {
      N: n,
      r,
      p,
      dkLen: DKLEN,
      ...(onProgress && { onProgress }),
    });
    return await subtle.importKey(
      "raw",
      derived as Uint8Array<ArrayBuffer>,
      { name: "AES-GCM" },
      false,
      [usage],
    );
  } finally {
    passwordBytes.fill(0);
    derived?.fill(0);
  }
}

function requireSubtle(): SubtleCrypto {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new RuntimeSupportError(
      "RUNTIME_UNSUPPORTED",
      "Keystores need WebCrypto (crypto.subtle); browsers offer it only on https:// or localhost pages.",
    );
  }
  return subtle;
}

function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed(`The keystore's ${field} must be a JSON object.`, { field });
  }
  return value as Record<string, unknown>;
}

function exactFields(value: Record<string, unknown>, fields: readonly string[], where: string) {
  for (const field of fields) {
    if (!Object.hasOwn(value, field)) {
      throw malformed(
        `The keystore lacks ${where === "(keystore)" ? field : `${where}.${field}`}.`,
        {
          field,
        },
      );
    }
  }
  for (const field of Object.keys(value)) {
    if (!fields.includes(field)) {
      throw malformed(
        "The keystore has a field this version does not define; it was written by another tool or changed.",
        { field: `${where}.${field}`.slice(0, 80) },
      );
    }
  }
}

function integer(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw malformed(`The keystore's ${field} must be an integer.`, { field });
  }
  return value;
}

const HEX_DIGITS = /^[0-9a-f]*$/;

function hexField(
  value: unknown,
  field: string,
  minBytes: number,
  maxBytes: number,
): Uint8Array<ArrayBuffer> {
  const size = minBytes === maxBytes ? `${minBytes}` : `${minBytes}-${maxBytes}`;
  if (
    typeof value !== "string" ||
    value.length % 2 !== 0 ||
    value.length < 2 * minBytes ||
    value.length > 2 * maxBytes ||
    !HEX_DIGITS.test(value)
  ) {
    throw malformed(`The keystore's ${field} must be ${size} bytes of lowercase hex.`, {
      field,
      length: typeof value === "string" ? value.length : typeof value,
    });
  }
  return fromHex(value) as Uint8Array<ArrayBuffer>;
}

function malformed(
  shortMessage: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): KeystoreError {
  return new KeystoreError("KEYSTORE_MALFORMED", shortMessage, {
    details,
    ...(cause !== undefined && { cause }),
  });
}

function unsupported(shortMessage: string, field: string, got: unknown): KeystoreError {
  return new KeystoreError("KEYSTORE_UNSUPPORTED", shortMessage, {
    details: { field, got: typeof got === "string" ? got.slice(0, 40) : typeof got },
  });
}

function invalidOptions(
  shortMessage: string,
  details: Record<string, unknown> = {},
): KeystoreError {
  return new KeystoreError("KEYSTORE_INVALID_OPTIONS", shortMessage, { details });
}
