/**
 * Hashing: SHA-256 everywhere, with domain separation.
 *
 * `@noble/hashes` is the portable implementation. A faster one (node's
 * native hash, see `protocol/node.ts`) may be installed with
 * `setSha256Backend`; the test suite proves both agree. Every hash of a
 * protocol object is tagged, so bytes of one kind can never be taken for
 * another, and every signed message also binds the chain id, so a signature
 * cannot be replayed on another chain or as another kind of object.
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { utf8 } from "./bytes.ts";

export type Sha256 = (data: Uint8Array) => Uint8Array;

export const HASH_LENGTH = 32;

let backend: Sha256 = nobleSha256;

export function sha256(data: Uint8Array): Uint8Array {
  return backend(data);
}

/** Installs another SHA-256 implementation (it must agree with `@noble/hashes`). */
export function setSha256Backend(fn: Sha256 | null): void {
  backend = fn ?? nobleSha256;
}

export const portableSha256: Sha256 = nobleSha256;

const tagCache = new Map<string, Uint8Array>();
function tagPrefix(tag: string): Uint8Array {
  let prefix = tagCache.get(tag);
  if (!prefix) {
    const t = utf8(tag);
    prefix = new Uint8Array(1 + t.length);
    prefix[0] = t.length;
    prefix.set(t, 1);
    tagCache.set(tag, prefix);
  }
  return prefix;
}

/** SHA-256(len(tag) ‖ tag ‖ parts...). */
export function taggedHash(tag: string, ...parts: readonly Uint8Array[]): Uint8Array {
  const prefix = tagPrefix(tag);
  let length = prefix.length;
  for (const p of parts) length += p.length;
  const buf = new Uint8Array(length);
  buf.set(prefix, 0);
  let offset = prefix.length;
  for (const p of parts) {
    buf.set(p, offset);
    offset += p.length;
  }
  return sha256(buf);
}

/** Domain tags, one per hashed kind. Changing one is a protocol change. */
export const HashTag = {
  header: "edgeledger/header/v1",
  validatorSet: "edgeledger/validator-set/v1",
  address: "edgeledger/address/v1",
  accountKey: "edgeledger/state/account/v1",
} as const;

/** What a signature is over, by kind; each kind has its own signing domain. */
export type SigningKind = "tx" | "vote" | "proposal";

/**
 * The 32-byte digest a signer signs: SHA-256 over the signing domain, the
 * chain id and the object's canonical encoding. A fixed-size digest keeps
 * verification cost independent of object size and lets remote signers
 * (hardware, KMS) sign without seeing the whole object.
 */
export function signingDigest(kind: SigningKind, chainId: string, body: Uint8Array): Uint8Array {
  return taggedHash(`edgeledger/sign/${kind}/v1`, utf8(chainId), new Uint8Array([0]), body);
}
