/**
 * The WebCrypto backend: `crypto.subtle` Ed25519, present in browsers,
 * Workers, Deno, Bun and Node. Imported keys are cached, because account and
 * validator keys repeat and import costs about as much as a verification.
 */
import { RuntimeSupportError } from "../../errors/protocol.ts";
import { toHex } from "../bytes.ts";
import type { Ed25519Backend } from "./backend.ts";

const KEY_CACHE_LIMIT = 4096;

export function webCryptoBackend(
  subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle,
): Ed25519Backend {
  if (!subtle) {
    throw new RuntimeSupportError(
      "RUNTIME_UNSUPPORTED",
      "WebCrypto (crypto.subtle) is not available here; use nobleBackend.",
    );
  }
  const cache = new Map<string, Promise<CryptoKey | null>>();
  const importKey = (publicKey: Uint8Array): Promise<CryptoKey | null> => {
    const id = toHex(publicKey);
    let key = cache.get(id);
    if (!key) {
      if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
      key = subtle
        .importKey("raw", publicKey.slice(), { name: "Ed25519" }, false, ["verify"])
        .catch(() => null);
      cache.set(id, key);
    }
    return key;
  };
  return {
    name: "webcrypto",
    async verify(signature, message, publicKey) {
      try {
        const key = await importKey(publicKey);
        if (!key) return false;
        return await subtle.verify({ name: "Ed25519" }, key, signature.slice(), message.slice());
      } catch {
        return false;
      }
    },
  };
}

/** True where this runtime's WebCrypto implements Ed25519 (probed, not assumed). */
export async function webCryptoHasEd25519(subtle = globalThis.crypto?.subtle): Promise<boolean> {
  if (!subtle) return false;
  try {
    await subtle.importKey("raw", new Uint8Array(32).fill(0x11), { name: "Ed25519" }, false, [
      "verify",
    ]);
    return true;
  } catch (err) {
    // A point that does not decode still proves the algorithm exists.
    return err instanceof Error && err.name !== "NotSupportedError";
  }
}
