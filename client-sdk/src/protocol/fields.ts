/** Field codecs shared by the protocol objects, so a hash or key is encoded one way everywhere. */

import { ADDRESS_LENGTH } from "./address.ts";
import { asciiString, fixedBytes, refine, u64Number, uintBig } from "./codec/codec.ts";
import { HASH_LENGTH } from "./hash.ts";
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from "./keys.ts";
import { CHAIN_ID_PATTERN, MAX_CHAIN_ID_LENGTH } from "./limits.ts";

export const chainIdField = asciiString("chainId", CHAIN_ID_PATTERN, MAX_CHAIN_ID_LENGTH);
export const hashField = (name: string) => fixedBytes(name, HASH_LENGTH);
export const publicKeyField = (name: string) => fixedBytes(name, PUBLIC_KEY_LENGTH);
export const signatureField = fixedBytes("signature", SIGNATURE_LENGTH);
export const addressField = (name: string) => fixedBytes(name, ADDRESS_LENGTH);
export const heightField = u64Number("height");
/** Unix time in milliseconds. */
export const timeField = (name: string) => u64Number(name);
export const amountField = (name: string) => uintBig(name, 16);
export const powerField = refine(uintBig("power", 8), (p) =>
  p > BigInt(Number.MAX_SAFE_INTEGER) ? "must be at most 2^53 - 1" : null,
);
