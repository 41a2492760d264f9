/**
 * @edgeledger/sdk/node: what only Node (or Bun, Deno) can offer: a trust
 * store in a file, and the native fast paths of `@edgeledger/sdk/protocol/node`
 * (OpenSSL Ed25519, native SHA-256). Never imported by the browser path.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { TrustStore } from "./client/verify/trust.ts";

export { LIFELINE_ENV, LIFELINE_GRACE_MS, watchLifeline } from "./lifeline.ts";
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

/** How long, and how many bytes, a connection is read after an early answer before it is dropped. */
export const LINGER_MS = 2000;
export const LINGER_BYTES = 8 * 1024 * 1024;

/**
 * Lingering close for a Node HTTP server (as nginx does it): a server that
 * answers before it has read the request body (a 413, a refusal of the
 * target) ends the connection, and Node then destroys the socket while the
 * client is still sending; the data that keeps arriving makes the kernel
 * reset the connection, and a reset drops the answer the client had not
 * read yet. So a socket the server ends keeps being read (and the rest
 * discarded) for at most LINGER_MS or LINGER_BYTES, then goes. Cost is
 * bounded per connection; the server's own connection limits still apply.
 */
export function lingerOnClose(server: {
  on(event: "connection", listener: (socket: import("node:net").Socket) => void): unknown;
}): void {
  server.on("connection", (socket) => {
    socket.destroySoon = function lingeringDestroySoon(this: typeof socket) {
      if (this.writable) this.end();
      let read = 0;
      const drop = () => this.destroy();
      const timer = setTimeout(drop, LINGER_MS);
      timer.unref();
      this.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read > LINGER_BYTES) drop();
      });
      this.once("close", () => clearTimeout(timer));
      // Whatever the parser no longer wants is read and dropped.
      this.resume();
    };
  });
}
