/**
 * Where the light client's trust starts (an anchor the app pins) and where
 * it keeps what it verified since (a store, so a restart does not verify
 * from the anchor again), in what form. Nothing here verifies a server's
 * answer: lightClient.ts does; a store holds only its own earlier verdicts.
 */
import { decodeBlockHeader, encodeBlockHeader } from "../../protocol/block.ts";
import { equalBytes, fromHex, toHex } from "../../protocol/bytes.ts";
import type { TrustedHeader } from "../../protocol/headerChain.ts";
import {
  decodeValidatorSet,
  encodeValidatorSet,
  validatorSetHash,
} from "../../protocol/validatorSet.ts";

/** Where trust starts. A hash you got from a source you trust, never from the server. */
export type TrustAnchor =
  | { readonly genesisHash: string }
  | { readonly checkpoint: { readonly height: number; readonly hash: string } };

/** Keeps the latest verified header across restarts (memory, browser storage, a file). */
export interface TrustStore {
  load(): Promise<string | null>;
  save(value: string): Promise<void>;
}

export function memoryTrustStore(): TrustStore {
  let value: string | null = null;
  return {
    load: async () => value,
    save: async (v) => {
      value = v;
    },
  };
}

/** A TrustStore over the Web Storage API (`localStorage` in browsers). */
export function webStorageTrustStore(
  storage: Pick<Storage, "getItem" | "setItem">,
  key = "edgeledger.trust",
): TrustStore {
  return {
    load: async () => storage.getItem(key),
    save: async (v) => storage.setItem(key, v),
  };
}

/** What a TrustStore holds: the latest verified header, for this chain and anchor only. */
interface Stored {
  readonly v: 1;
  readonly chainId: string;
  /** The anchor it was verified from (JSON of the TrustAnchor). */
  readonly anchor: string;
  readonly headerBytes: string;
  readonly validatorSetBytes: string;
}

interface StoredFor {
  readonly chainId: string;
  readonly anchor: string;
}

/** The stored form of a verified header and the set that signed it. */
export function writeTrusted(trusted: TrustedHeader, for_: StoredFor): string {
  const stored: Stored = {
    v: 1,
    chainId: for_.chainId,
    anchor: for_.anchor,
    headerBytes: toHex(encodeBlockHeader(trusted.header)),
    validatorSetBytes: toHex(encodeValidatorSet(trusted.validators)),
  };
  return JSON.stringify(stored);
}

/**
 * The header a store holds, if it was stored for this chain and anchor and
 * reads back whole; null otherwise (another chain or anchor, an older
 * format, a corrupt store: start from the anchor again).
 */
export function readTrusted(raw: string, for_: StoredFor): TrustedHeader | null {
  try {
    const stored = JSON.parse(raw) as Stored;
    if (stored.v !== 1 || stored.chainId !== for_.chainId || stored.anchor !== for_.anchor)
      return null;
    const header = decodeBlockHeader(fromHex(stored.headerBytes));
    const validators = decodeValidatorSet(fromHex(stored.validatorSetBytes));
    if (!equalBytes(validatorSetHash(validators), header.validatorsHash)) return null;
    return { header, validators };
  } catch {
    return null;
  }
}
