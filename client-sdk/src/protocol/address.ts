/**
 * Account addresses: the first 20 bytes of a tagged SHA-256 of the Ed25519
 * public key, written for humans as bech32m with the prefix `el`
 * (`el1...`). bech32m's checksum detects any error in up to four characters,
 * and the format rejects mixed case, so a mistyped address fails to parse
 * instead of sending funds to a stranger.
 */
import { bech32m } from "@scure/base";
import { AddressError } from "../errors/protocol.ts";
import { HashTag, taggedHash } from "./hash.ts";

export const ADDRESS_LENGTH = 20;
export const ADDRESS_PREFIX = "el";
const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const FORMAT = new RegExp(`^${ADDRESS_PREFIX}1[${CHARSET}]{6,}$`);

export function addressFromPublicKey(publicKey: Uint8Array): Uint8Array {
  return taggedHash(HashTag.address, publicKey).slice(0, ADDRESS_LENGTH);
}

export function formatAddress(address: Uint8Array): string {
  if (address.length !== ADDRESS_LENGTH) {
    throw new AddressError("ADDRESS_WRONG_LENGTH", `An address is ${ADDRESS_LENGTH} bytes.`, {
      details: { got: address.length },
    });
  }
  return bech32m.encode(ADDRESS_PREFIX, bech32m.toWords(address));
}

export function parseAddress(text: string): Uint8Array {
  if (typeof text !== "string" || text.length > 90) {
    throw new AddressError(
      "ADDRESS_INVALID_FORMAT",
      "An address is a string of at most 90 characters.",
    );
  }
  // bech32 allows all-uppercase (for QR codes) but never mixed case.
  const lower = text === text.toUpperCase() ? text.toLowerCase() : text;
  if (!lower.startsWith(`${ADDRESS_PREFIX}1`)) {
    throw new AddressError(
      "ADDRESS_WRONG_PREFIX",
      `An edgeledger address starts with "${ADDRESS_PREFIX}1".`,
      { details: { got: text.slice(0, 8) } },
    );
  }
  if (!FORMAT.test(lower)) {
    throw new AddressError(
      "ADDRESS_INVALID_FORMAT",
      "Address has characters outside the bech32 alphabet or mixed case; copy it again.",
    );
  }
  const decoded = bech32m.decodeUnsafe(lower as `${string}1${string}`);
  if (!decoded) {
    throw new AddressError(
      "ADDRESS_INVALID_CHECKSUM",
      "Address checksum does not match: a character is wrong or missing; copy it again.",
    );
  }
  const bytes = bech32m.fromWordsUnsafe(decoded.words);
  if (!bytes || bytes.length !== ADDRESS_LENGTH) {
    throw new AddressError("ADDRESS_WRONG_LENGTH", `An address holds ${ADDRESS_LENGTH} bytes.`);
  }
  return Uint8Array.from(bytes);
}
