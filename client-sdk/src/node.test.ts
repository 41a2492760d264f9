import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { fileTrustStore, LINGER_MS, lingerOnClose } from "./node.ts";

const dir = mkdtempSync(join(tmpdir(), "trust-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("file trust store", () => {
  it("loads nothing before the first save, then what was saved last", async () => {
    const path = join(dir, "sub", "trust.json");
    const store = fileTrustStore(path);
    expect(await store.load()).toBeNull();
    await store.save('{"v":1}');
    await store.save('{"v":2}');
    expect(await fileTrustStore(path).load()).toBe('{"v":2}');
    expect(readFileSync(path, "utf8")).toBe('{"v":2}');
  });
});

/** A server that refuses every upload at once, unread, as a body limit does. */
async function refusingServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(413, { "content-type": "application/json", connection: "close" });
    res.end('{"code":"BODY_TOO_LARGE","message":"too large","details":{}}');
  });
  lingerOnClose(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Uploads `total` bytes slowly, reading nothing for the first `readAfterMs`. */
function upload(port: number, total: number, readAfterMs: number) {
  const socket: Socket = connect({ port, host: "127.0.0.1" });
  const chunks: Buffer[] = [];
  socket.pause();
  socket.on("connect", () => {
    socket.write(
      `POST /x HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: ${total}\r\n\r\n`,
    );
    let sent = 0;
    const tick = setInterval(() => {
      if (sent >= total || socket.destroyed) return clearInterval(tick);
      socket.write(Buffer.alloc(256 * 1024, 48));
      sent += 256 * 1024;
    }, 20);
    setTimeout(() => socket.resume(), readAfterMs);
  });
  socket.on("data", (d) => chunks.push(d));
  socket.on("error", () => undefined);
  return new Promise<string>((resolve) =>
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1"))),
  );
}

describe("lingerOnClose", () => {
  it("an answer given before the body is read reaches a client that reads late", async () => {
    const { server, port } = await refusingServer();
    servers.push(server);
    const answer = await upload(port, 8 * 1024 * 1024, 600);
    expect(answer.startsWith("HTTP/1.1 413")).toBe(true);
    expect(answer).toContain('"code":"BODY_TOO_LARGE"');
  });

  it("drops a client that keeps sending, within its bound", async () => {
    const { server, port } = await refusingServer();
    servers.push(server);
    const started = Date.now();
    // Far more than LINGER_BYTES, sent for longer than LINGER_MS.
    const answer = await upload(port, 1024 * 1024 * 1024, 0);
    expect(answer.startsWith("HTTP/1.1 413")).toBe(true);
    expect(Date.now() - started).toBeLessThan(LINGER_MS * 4);
  }, 20_000);
});
