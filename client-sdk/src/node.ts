/**
 * @edgeledger/sdk/node: what only Node (or Bun, Deno) can offer: a trust
 * store in a file, and the native fast paths of `@edgeledger/sdk/protocol/node`
 * (OpenSSL Ed25519, native SHA-256). Never imported by the browser path.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { TrustStore } from "./client/verify/trust.ts";

export * from "./protocol/node.ts";

/**
 * Keeps the light client's latest verified header in `path` (written to a
 * temporary file, then renamed, so a crash never leaves half a file).
 */
export function fileTrustStore(path: string): TrustStore {
  return {
    async load() {
      try {
        return await readFile(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    },
    async save(value) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.tmp-${process.pid}`;
      await writeFile(tmp, value, { mode: 0o600 });
      await rename(tmp, path);
    },
  };
}
