import { get, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { VerificationError } from "@edgeledger/sdk";
import { describe, expect, it } from "vitest";
import type { AnswerVerifier } from "../upstream/verify.ts";
import { startEdgeServer } from "./node.ts";

/** A verifier whose head stream fails at once, so the follower keeps switching upstream. */
function failingStream(): AnswerVerifier {
  const refuse = async () => {
    throw new VerificationError("VERIFY_HEADER", "no");
  };
  return {
    account: refuse,
    block: refuse,
    header: refuse,
    transaction: refuse,
    validators: refuse,
    genesis: refuse,
    headerAt: refuse,
    watchHeads: (_onHead, options) => {
      queueMicrotask(() => options.onError?.(new Error("stream failed")));
      return () => undefined;
    },
  };
}

/** Servers and sockets open in this process, as Node lists them. */
const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP"));

describe("the Node entry", () => {
  it("serves on a port, and once closed leaves no socket open and no head follower running", async () => {
    const before = tcpHandles();
    const edge = await startEdgeServer({
      upstreams: ["http://127.0.0.1:1", "http://127.0.0.1:2"],
      chainId: "testnet-1",
      trust: { genesisHash: "ab".repeat(32) },
      port: 0,
      verifierFor: failingStream,
      fetch: async () => {
        throw new TypeError("fetch failed");
      },
    });
    // Without keep-alive: a pooled client socket would count as a handle here.
    const request = (path: string) =>
      new Promise<IncomingMessage>((resolve, reject) =>
        get(`${edge.url}${path}`, { agent: false }, resolve).on("error", reject),
      );
    // Alive, not ready: no upstream answers.
    const live = await request("/health?probe=live");
    live.resume();
    expect(live.statusCode).toBe(200);
    expect(live.headers["access-control-allow-origin"]).toBe("*");
    const ready = await request("/health");
    ready.resume();
    expect(ready.statusCode).toBe(503);
    // A heads stream held open: close() must end it too.
    const heads = await request("/v1/heads");
    expect(heads.statusCode).toBe(200);
    expect(heads.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    const first = await new Promise<string>((resolve) =>
      heads.once("data", (d: Buffer) => resolve(d.toString())),
    );
    expect(first).toBe(": subscribed\n\n");
    heads.resume();
    const headsEnded = new Promise<void>((resolve) => heads.once("close", () => resolve()));
    // Following heads (stream mode) is under way, failing and switching upstream.
    await new Promise((r) => setTimeout(r, 50));
    expect(edge.app.edge.metrics.total("verification_failures_total")).toBeGreaterThan(0);
    await edge.close();
    await headsEnded;
    expect(edge.app.edge.headStreams?.size).toBe(0);
    // Handles are released as the event loop turns: look again, within a bound.
    for (let i = 0; i < 50 && tcpHandles().length > before.length; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(tcpHandles()).toEqual(before);
    // The follower pauses up to a second between upstreams: past that, nothing more happens.
    const failures = edge.app.edge.metrics.total("verification_failures_total");
    await new Promise((r) => setTimeout(r, 1200));
    expect(edge.app.edge.metrics.total("verification_failures_total")).toBe(failures);
  });
});

/** Writes `bytes` on a fresh connection and reads until the server closes it. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: Number(port) }, () =>
      socket.write(bytes, "latin1"),
    );
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error("no answer in 5 s")));
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

describe("the Node entry, on a raw socket", () => {
  it("answers parser errors, header floods, CONNECT, a missing Host and dot segments in the error shape", async () => {
    const edge = await startEdgeServer({
      upstreams: ["http://127.0.0.1:1"],
      chainId: "testnet-1",
      trust: { genesisHash: "ab".repeat(32) },
      port: 0,
      verifierFor: failingStream,
      fetch: async () => {
        throw new TypeError("fetch failed");
      },
    });
    try {
      const close = "host: x\r\nconnection: close\r\n";
      const cases = [
        ["GET /v1/status HTTP/1.1\r\nhost: x\r\noops\r\n\r\n", 400, "REQUEST_INVALID"],
        [
          `GET /v1/status HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`,
          431,
          "REQUEST_INVALID",
        ],
        [
          "POST /v1/transactions HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
          400,
          "REQUEST_INVALID",
        ],
        ["HELLO\r\n\r\n", 405, "METHOD_NOT_ALLOWED"],
        ["CONNECT 127.0.0.1:22 HTTP/1.1\r\nhost: x\r\n\r\n", 405, "METHOD_NOT_ALLOWED"],
        ["GET /v1/status HTTP/1.1\r\nconnection: close\r\n\r\n", 400, "REQUEST_INVALID"],
        // A URL parser would resolve these to /v1/status and serve it; the node does not.
        [`GET /v1/genesis/../status HTTP/1.1\r\n${close}\r\n`, 400, "REQUEST_INVALID"],
        [`GET /v1/genesis/%2E%2e/status HTTP/1.1\r\n${close}\r\n`, 400, "REQUEST_INVALID"],
        [`GET http://evil.example/v1/status HTTP/1.1\r\n${close}\r\n`, 400, "REQUEST_INVALID"],
        [`GET * HTTP/1.1\r\n${close}\r\n`, 400, "REQUEST_INVALID"],
      ] as const;
      for (const [bytes, status, code] of cases) {
        const text = await rawExchange(edge.url, bytes);
        const split = text.indexOf("\r\n\r\n");
        const head = text.slice(0, split);
        expect(head.split("\r\n")[0]!.split(" ")[1], bytes.slice(0, 40)).toBe(String(status));
        expect(head.toLowerCase(), bytes.slice(0, 40)).toContain("content-type: application/json");
        const json = JSON.parse(text.slice(split + 4)) as Record<string, unknown>;
        expect(json["code"], bytes.slice(0, 40)).toBe(code);
        expect(typeof json["message"]).toBe("string");
        expect(typeof json["details"]).toBe("object");
      }
    } finally {
      await edge.close();
    }
  });
});
