import { createCipheriv, createDecipheriv, scryptSync } from "node:crypto";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { KeystoreError } from "../errors/wallet.ts";
import { addressFromPublicKey, formatAddress } from "../protocol/address.ts";
import { concatBytes, fromHex, toHex, utf8 } from "../protocol/bytes.ts";
import { SecretKey } from "../protocol/keys.ts";
import {
  decryptKeystore,
  encryptKeystore,
  KEYSTORE_DEFAULTS,
  type KeystoreJson,
  keystoreAdditionalData,
} from "./keystore.ts";
import vectors from "./testdata/keystore-vectors.json" with { type: "json" };

// A pass-through spy, so tests can prove a hostile file is refused before
// any key derivation starts.
vi.mock(import("@noble/hashes/scrypt.js"), async (importOriginal) => {
  const original = await importOriginal();
  return { ...original, scryptAsync: vi.fn(original.scryptAsync) };
});

const FAST = { n: 1024, r: 8, p: 1 } as const;
const PASSWORD = "hunter2-but-longer";
const key = SecretKey.fromSeed(Uint8Array.from({ length: 32 }, (_, i) => 200 - i));

/** Flips one bit of byte `index` of a hex string. */
function flipHex(hex: string, index = 0): string {
  const bytes = fromHex(hex);
  bytes[index]! ^= 0x01;
  return toHex(bytes);
}

/**
 * The format as docs/wallet.md describes it, computed with node:crypto
 * (OpenSSL's scrypt and AES-GCM) instead of the module's noble + WebCrypto:
 * an independent implementation to hold the module and the docs to.
 */
function sealIndependently(input: {
  seed: Uint8Array;
  publicKey: Uint8Array;
  password: string;
  salt: Uint8Array;
  iv: Uint8Array;
  n: number;
  r: number;
  p: number;
}): KeystoreJson {
  const address = formatAddress(addressFromPublicKey(input.publicKey));
  const derived = scryptSync(input.password.normalize("NFKC"), input.salt, 32, {
    N: input.n,
    r: input.r,
    p: input.p,
    maxmem: 256 * 2 ** 20,
  });
  const u32 = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  const aad = concatBytes(
    utf8("edgeledger/keystore/v1"),
    Uint8Array.of(0),
    input.publicKey,
    addressFromPublicKey(input.publicKey),
    Uint8Array.of(6),
    utf8("scrypt"),
    u32(input.n),
    u32(input.r),
    u32(input.p),
    u32(32),
    Uint8Array.of(input.salt.length),
    input.salt,
    Uint8Array.of(11),
    utf8("aes-256-gcm"),
  );
  const cipher = createCipheriv("aes-256-gcm", derived, input.iv);
  cipher.setAAD(aad);
  const ciphertext = concatBytes(cipher.update(input.seed), cipher.final(), cipher.getAuthTag());
  return {
    version: 1,
    address,
    publicKey: toHex(input.publicKey),
    crypto: {
      kdf: "scrypt",
      kdfparams: { n: input.n, r: input.r, p: input.p, dklen: 32, salt: toHex(input.salt) },
      cipher: "aes-256-gcm",
      iv: toHex(input.iv),
      ciphertext: toHex(ciphertext),
    },
  };
}

async function refusal(json: unknown, password = PASSWORD): Promise<KeystoreError> {
  const error = await decryptKeystore(json, password).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(KeystoreError);
  return error as KeystoreError;
}

let sample: KeystoreJson;
beforeEach(async () => {
  sample ??= await encryptKeystore(key, PASSWORD, FAST);
  vi.mocked(scryptAsync).mockClear();
});

describe("keystore round trip", () => {
  it("decrypts what it encrypts, from the file text or the parsed object", async () => {
    const text = JSON.stringify(sample);
    expect((await decryptKeystore(text, PASSWORD)).exportHex()).toBe(key.exportHex());
    expect((await decryptKeystore(JSON.parse(text), PASSWORD)).publicKey).toEqual(key.publicKey);
  });

  it("writes the documented shape, and neither the seed nor the password", async () => {
    expect(sample).toMatchObject({
      version: 1,
      address: formatAddress(addressFromPublicKey(key.publicKey)),
      publicKey: toHex(key.publicKey),
      crypto: {
        kdf: "scrypt",
        kdfparams: { ...FAST, dklen: 32 },
        cipher: "aes-256-gcm",
      },
    });
    expect(sample.crypto.kdfparams.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(sample.crypto.iv).toMatch(/^[0-9a-f]{24}$/);
    expect(sample.crypto.ciphertext).toMatch(/^[0-9a-f]{96}$/);
    const text = JSON.stringify(sample);
    expect(text).not.toContain(key.exportHex().slice(0, 16));
    expect(text).not.toContain(PASSWORD);
  });

  it("uses a fresh salt and IV every time", async () => {
    const again = await encryptKeystore(key, PASSWORD, FAST);
    expect(again.crypto.kdfparams.salt).not.toBe(sample.crypto.kdfparams.salt);
    expect(again.crypto.iv).not.toBe(sample.crypto.iv);
  });

  it("reports key-derivation progress up to 1", async () => {
    const progress: number[] = [];
    await decryptKeystore(sample, PASSWORD, { onProgress: (f) => progress.push(f) });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(1);
  });

  it("defaults to scrypt N = 2^17, r = 8, p = 1 with a 32-byte salt", async () => {
    const strong = await encryptKeystore(key, PASSWORD);
    expect(strong.crypto.kdfparams).toMatchObject({ n: 2 ** 17, r: 8, p: 1, dklen: 32 });
    expect(strong.crypto.kdfparams.n).toBe(KEYSTORE_DEFAULTS.n);
    expect(fromHex(strong.crypto.kdfparams.salt)).toHaveLength(32);
    expect((await decryptKeystore(strong, PASSWORD)).exportHex()).toBe(key.exportHex());
  });
});

describe("fixed vectors (testdata/keystore-vectors.json): the format cannot drift", () => {
  for (const vector of vectors) {
    const options = {
      n: vector.keystore.crypto.kdfparams.n,
      r: vector.keystore.crypto.kdfparams.r,
      p: vector.keystore.crypto.kdfparams.p,
      salt: fromHex(vector.salt),
      iv: fromHex(vector.iv),
    };

    it(`${vector.name}: decrypts to the known seed`, async () => {
      const opened = await decryptKeystore(JSON.stringify(vector.keystore), vector.password);
      expect(opened.exportHex()).toBe(vector.seed);
    });

    it(`${vector.name}: is what encryptKeystore writes for the same inputs`, async () => {
      const written = await encryptKeystore(
        SecretKey.fromHex(vector.seed),
        vector.password,
        options,
      );
      expect(written).toEqual(vector.keystore);
    });

    it(`${vector.name}: is what the documented format gives, computed with node:crypto`, () => {
      const seed = fromHex(vector.seed);
      const independent = sealIndependently({
        seed,
        publicKey: SecretKey.fromSeed(seed).publicKey,
        password: vector.password,
        salt: options.salt,
        iv: options.iv,
        n: options.n,
        r: options.r,
        p: options.p,
      });
      expect(independent).toEqual(vector.keystore);
      // And OpenSSL opens it with the documented additional data.
      const sealed = fromHex(vector.keystore.crypto.ciphertext);
      const decipher = createDecipheriv(
        "aes-256-gcm",
        scryptSync(vector.password.normalize("NFKC"), options.salt, 32, {
          N: options.n,
          r: options.r,
          p: options.p,
        }),
        options.iv,
      );
      decipher.setAAD(
        keystoreAdditionalData({
          version: 1,
          publicKey: fromHex(vector.keystore.publicKey),
          address: vector.keystore.address,
          kdfparams: { ...options },
        }),
      );
      decipher.setAuthTag(sealed.subarray(32));
      expect(toHex(concatBytes(decipher.update(sealed.subarray(0, 32)), decipher.final()))).toBe(
        vector.seed,
      );
    });
  }

  it("normalises passwords (NFKC): the decomposed form of a password opens its file", async () => {
    const vector = vectors.find((v) => /[^\x20-\x7e]/.test(v.password))!;
    const decomposed = vector.password.normalize("NFD");
    expect(decomposed).not.toBe(vector.password);
    expect((await decryptKeystore(vector.keystore, decomposed)).exportHex()).toBe(vector.seed);
  });
});

describe("keystore refusals", () => {
  type Crypto = KeystoreJson["crypto"];
  const withCrypto = (change: Partial<Record<keyof Crypto, unknown>>) => ({
    ...sample,
    crypto: { ...sample.crypto, ...change },
  });
  const withParams = (change: Partial<Record<keyof Crypto["kdfparams"], unknown>>) =>
    withCrypto({ kdfparams: { ...sample.crypto.kdfparams, ...change } });

  async function expectCodes(cases: [string, unknown, string][]) {
    for (const [what, json, code] of cases) {
      // Through JSON, as a file would come: fields set to undefined disappear.
      const input =
        typeof json === "object" && json !== null ? JSON.parse(JSON.stringify(json)) : json;
      expect((await refusal(input)).code, what).toBe(code);
    }
  }

  it("a wrong password: KEYSTORE_WRONG_PASSWORD, saying neither password", async () => {
    const error = await refusal(sample, "hunter3-but-longer");
    expect(error.code).toBe("KEYSTORE_WRONG_PASSWORD");
    const everything = `${error.message} ${JSON.stringify(error)} ${String(error.cause)}`;
    expect(everything).not.toContain("hunter");
    expect(everything).not.toContain(key.exportHex().slice(0, 16));
  });

  it("one flipped bit in the ciphertext, its tag, the IV, the salt, or a changed cost", async () => {
    const wrong = "KEYSTORE_WRONG_PASSWORD";
    await expectCodes([
      ["ciphertext", withCrypto({ ciphertext: flipHex(sample.crypto.ciphertext, 0) }), wrong],
      ["tag", withCrypto({ ciphertext: flipHex(sample.crypto.ciphertext, 47) }), wrong],
      ["iv", withCrypto({ iv: flipHex(sample.crypto.iv, 5) }), wrong],
      ["salt", withParams({ salt: flipHex(sample.crypto.kdfparams.salt, 9) }), wrong],
      ["n", withParams({ n: 2048 }), wrong],
      ["r", withParams({ r: 9 }), wrong],
      ["p", withParams({ p: 2 }), wrong],
    ]);
  });

  it("an address or public key that was changed", async () => {
    const otherAddress = addressFromPublicKey(key.publicKey);
    otherAddress[3]! ^= 0x01;
    const otherKey = SecretKey.fromSeed(new Uint8Array(32).fill(7)).publicKey;
    await expectCodes([
      // A typo: bech32m's checksum catches it.
      [
        "address typo",
        { ...sample, address: `${sample.address.slice(0, -1)}q` },
        "KEYSTORE_MALFORMED",
      ],
      // A valid address, but not the public key's.
      ["address", { ...sample, address: formatAddress(otherAddress) }, "KEYSTORE_MALFORMED"],
      ["publicKey", { ...sample, publicKey: flipHex(sample.publicKey, 4) }, "KEYSTORE_MALFORMED"],
      // Both swapped consistently for another key: only the additional data catches it.
      [
        "publicKey and address",
        {
          ...sample,
          publicKey: toHex(otherKey),
          address: formatAddress(addressFromPublicKey(otherKey)),
        },
        "KEYSTORE_WRONG_PASSWORD",
      ],
    ]);
  });

  it("a file whose key is not its public key: KEYSTORE_KEY_MISMATCH", async () => {
    const other = SecretKey.fromSeed(new Uint8Array(32).fill(9));
    const lying = sealIndependently({
      seed: other.exportSeed(),
      publicKey: key.publicKey,
      password: PASSWORD,
      salt: new Uint8Array(16).fill(1),
      iv: new Uint8Array(12).fill(2),
      ...FAST,
    });
    expect((await refusal(lying)).code).toBe("KEYSTORE_KEY_MISMATCH");
  });

  it("costs beyond the limits, before any key derivation", async () => {
    const unsupported = "KEYSTORE_UNSUPPORTED";
    await expectCodes([
      ["n above 2^20", withParams({ n: 2 ** 21 }), unsupported],
      ["n = 2^31", withParams({ n: 2 ** 31 }), unsupported],
      ["1 GiB of memory (n = 2^20, r = 8)", withParams({ n: 2 ** 20, r: 8 }), unsupported],
      ["work 2^24 (n = 2^17, r = 8, p = 16)", withParams({ n: 2 ** 17, r: 8, p: 16 }), unsupported],
      ["r above 32", withParams({ r: 33 }), unsupported],
      ["p above 16", withParams({ p: 17 }), unsupported],
      ["n not a power of two", withParams({ n: 1000 }), unsupported],
      ["n = 1", withParams({ n: 1 }), unsupported],
      ["r = 0", withParams({ r: 0 }), unsupported],
      ["p = 0", withParams({ p: 0 }), unsupported],
      ["n as a fraction", withParams({ n: 1024.5 }), "KEYSTORE_MALFORMED"],
      ["n as text", withParams({ n: "1024" }), "KEYSTORE_MALFORMED"],
    ]);
    expect(scryptAsync).not.toHaveBeenCalled();
  });

  it("versions, algorithms and fields it does not know, before any key derivation", async () => {
    const malformed = "KEYSTORE_MALFORMED";
    const unsupported = "KEYSTORE_UNSUPPORTED";
    await expectCodes([
      ["version 2", { ...sample, version: 2 }, unsupported],
      ["an Ethereum keystore", { version: 3, id: "x", crypto: {} }, unsupported],
      ["version as text", { ...sample, version: "1" }, malformed],
      ["no version", { ...sample, version: undefined }, malformed],
      ["an extra field", { ...sample, note: "hi" }, malformed],
      ["a missing field", { ...sample, publicKey: undefined }, malformed],
      ["an extra crypto field", { ...sample, crypto: { ...sample.crypto, mac: "00" } }, malformed],
      ["a missing crypto field", withCrypto({ iv: undefined }), malformed],
      [
        "an extra kdf parameter",
        withCrypto({ kdfparams: { ...sample.crypto.kdfparams, maxmem: 1 } }),
        malformed,
      ],
      ["pbkdf2", withCrypto({ kdf: "pbkdf2" }), unsupported],
      ["aes-128-ctr", withCrypto({ cipher: "aes-128-ctr" }), unsupported],
      ["dklen 64", withParams({ dklen: 64 }), unsupported],
      ["an 8-byte salt", withParams({ salt: "00".repeat(8) }), malformed],
      ["a 65-byte salt", withParams({ salt: "00".repeat(65) }), malformed],
      ["an 11-byte IV", withCrypto({ iv: sample.crypto.iv.slice(2) }), malformed],
      [
        "a short ciphertext",
        withCrypto({ ciphertext: sample.crypto.ciphertext.slice(2) }),
        malformed,
      ],
      ["uppercase hex", { ...sample, publicKey: sample.publicKey.toUpperCase() }, malformed],
      ["0x hex", { ...sample, publicKey: `0x${sample.publicKey.slice(2)}` }, malformed],
      ["not JSON", "{ version: 1", malformed],
      ["a huge string", `{"x":"${"a".repeat(20_000)}"}`, malformed],
      ["null", null, malformed],
      ["an array", [sample], malformed],
      ["a number", 1, malformed],
    ]);
    expect(scryptAsync).not.toHaveBeenCalled();
  });

  it("does not echo a secret passed by mistake as the file", async () => {
    const error = await refusal(key.exportHex());
    expect(error.code).toBe("KEYSTORE_MALFORMED");
    const everything = `${error.message} ${JSON.stringify(error)} ${String(error.cause)}`;
    expect(everything).not.toContain(key.exportHex().slice(0, 16));
  });
});

describe("encryptKeystore options", () => {
  it("refuses what it would not open, or what protects nothing", async () => {
    const cases: [string, string, Parameters<typeof encryptKeystore>[2]][] = [
      ["empty password", "", FAST],
      ["n above the limit", PASSWORD, { n: 2 ** 21 }],
      ["memory above the limit", PASSWORD, { n: 2 ** 19, r: 8 }],
      ["n not a power of two", PASSWORD, { n: 3000 }],
      ["a 15-byte salt", PASSWORD, { ...FAST, salt: new Uint8Array(15) }],
      ["a 16-byte IV", PASSWORD, { ...FAST, iv: new Uint8Array(16) }],
    ];
    for (const [what, password, options] of cases) {
      const error = await encryptKeystore(key, password, options).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error, what).toBeInstanceOf(KeystoreError);
      expect((error as KeystoreError).code, what).toBe("KEYSTORE_INVALID_OPTIONS");
    }
    expect(scryptAsync).not.toHaveBeenCalled();
  });
});
