import { get, type IncomingMessage } from "node:http";
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
    const health = await new Promise<IncomingMessage>((resolve, reject) =>
      get(`${edge.url}/health`, { agent: false }, resolve).on("error", reject),
    );
    health.resume();
    expect(health.statusCode).toBe(200);
    expect(health.headers["access-control-allow-origin"]).toBe("*");
    // Following heads (stream mode) is under way, failing and switching upstream.
    await new Promise((r) => setTimeout(r, 50));
    expect(edge.app.edge.metrics.total("verification_failures_total")).toBeGreaterThan(0);
    await edge.close();
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
