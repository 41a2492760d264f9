import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, TransactionError } from "../../errors/protocol.ts";
import { createClient } from "../clients/createClient.ts";
import type { Transport, TransportRequest } from "../transports/transport.ts";

/** A server that says "pending" `polls` times, then "dropped"; it has no head to watch. */
function droppingAfter(polls: number): Transport {
  let asked = 0;
  return {
    urls: ["memory:"],
    async request<T>(req: TransportRequest): Promise<T> {
      if (req.path === "/v1/status") return { height: 0 } as T;
      if (req.path.startsWith("/v1/transactions/")) {
        asked++;
        if (asked <= polls) return { status: "pending" } as T;
        return {
          status: "dropped",
          error: { code: "TX_EXPIRED", message: "expired in the pool" },
        } as T;
      }
      throw new ApiError("NOT_FOUND", `no route ${req.path}`);
    },
    events: () => {
      throw new Error("no stream here");
    },
  };
}

/** Abort listeners added and not (yet) removed, on every AbortSignal, while `run` runs. */
async function liveAbortListeners(run: () => Promise<unknown>): Promise<number> {
  const live = new Set<unknown>();
  const add = vi.spyOn(AbortSignal.prototype, "addEventListener");
  const remove = vi.spyOn(AbortSignal.prototype, "removeEventListener");
  add.mockImplementation(function (this: AbortSignal, type, listener, options) {
    if (type === "abort") live.add(listener);
    return EventTarget.prototype.addEventListener.call(this, type, listener, options);
  });
  remove.mockImplementation(function (this: AbortSignal, type, listener, options) {
    if (type === "abort") live.delete(listener);
    return EventTarget.prototype.removeEventListener.call(this, type, listener, options);
  });
  await run().catch(() => undefined);
  return live.size;
}

afterEach(() => vi.restoreAllMocks());

describe("waitForFinality", () => {
  it("rejects with the code the transaction was dropped with", async () => {
    const client = createClient({
      chainId: "testnet-1",
      trust: { genesisHash: "00".repeat(32) },
      transport: droppingAfter(2),
    });
    const err = await client
      .waitForFinality({ hash: "ab".repeat(32), pollMs: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionError);
    expect((err as TransactionError).code).toBe("TX_EXPIRED");
  });

  // Each wait between two looks hung a listener on the caller's signal and
  // never took it off: a long wait on a long-lived signal grew without bound.
  it("leaves no more listeners behind after many looks than after a few", async () => {
    const after = async (polls: number) => {
      const signal = new AbortController().signal;
      const client = createClient({
        chainId: "testnet-1",
        trust: { genesisHash: "00".repeat(32) },
        transport: droppingAfter(polls),
      });
      return liveAbortListeners(() =>
        client.waitForFinality({ hash: "ab".repeat(32), pollMs: 1, signal }),
      );
    };
    expect(await after(30)).toBe(await after(3));
  });
});
