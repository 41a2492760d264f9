import { afterEach, describe, expect, it, vi } from "vitest";
import { TransportError, VerificationError } from "../../errors/client.ts";
import { ApiError, TransactionError } from "../../errors/protocol.ts";
import { http, retryAfterMs } from "./http.ts";

type Handler = (url: string, init: RequestInit) => Promise<Response> | Response;

/** A fetch that answers from `handler` and records each URL asked. */
function fakeFetch(handler: Handler) {
  const calls: string[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push(url);
    return handler(url, init ?? {});
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const refusal = (code: string) => ({ code, message: `${code} happened`, details: { n: 1 } });

const get = { method: "GET" as const, path: "/v1/status" };

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

describe("http transport", () => {
  it("fails over to the next URL on a refused connection, then sticks to the one that answered", async () => {
    const { fetch, calls } = fakeFetch((url) => {
      if (url.startsWith("http://a")) throw new TypeError("fetch failed");
      return json(200, { ok: url });
    });
    const t = http(["http://a", "http://b"], { fetch, retryDelayMs: 1 });
    expect(await t.request(get)).toEqual({ ok: "http://b/v1/status" });
    expect(await t.request(get)).toEqual({ ok: "http://b/v1/status" });
    expect(calls).toEqual(["http://a/v1/status", "http://b/v1/status", "http://b/v1/status"]);
  });

  it("retries 503 and 429 with backoff, and gives up with the last error", async () => {
    let n = 0;
    const { fetch } = fakeFetch(() =>
      ++n < 3 ? json(503, refusal("UNAVAILABLE")) : json(200, { n }),
    );
    expect(await http("http://a", { fetch, retryDelayMs: 1 }).request(get)).toEqual({ n: 3 });
    const always = fakeFetch(() => json(429, refusal("UNAVAILABLE")));
    const err = await failure(
      http("http://a", { fetch: always.fetch, retryDelayMs: 1 }).request(get),
    );
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe("UNAVAILABLE");
    expect(always.calls).toHaveLength(3); // the first try and 2 retries
  });

  it("never retries a refusal, and types it by its code", async () => {
    const { fetch, calls } = fakeFetch(() => json(400, refusal("TX_NONCE_TOO_LOW")));
    const err = await failure(http(["http://a", "http://b"], { fetch }).request(get));
    expect(err).toBeInstanceOf(TransactionError);
    expect((err as TransactionError).code).toBe("TX_NONCE_TOO_LOW");
    expect((err as TransactionError).details).toMatchObject({ n: 1, status: 400 });
    expect(calls).toHaveLength(1);
    const unknown = fakeFetch(() => json(418, { code: "TEAPOT", message: "short and stout" }));
    const other = await failure(http("http://a", { fetch: unknown.fetch }).request(get));
    expect(other).toBeInstanceOf(ApiError);
    expect((other as ApiError).details["serverCode"]).toBe("TEAPOT");
  });

  it("times out a server that does not answer", async () => {
    const { fetch } = fakeFetch(
      (_url, init) =>
        new Promise((_resolve, reject) =>
          init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
        ),
    );
    const err = await failure(http("http://a", { fetch, timeoutMs: 20, retries: 0 }).request(get));
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe("TRANSPORT_TIMEOUT");
  });

  it("stops at once when the caller aborts, even between retries", async () => {
    const { fetch, calls } = fakeFetch(() => json(503, refusal("UNAVAILABLE")));
    const controller = new AbortController();
    const p = http("http://a", { fetch, retryDelayMs: 10_000 }).request({
      ...get,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    const err = await failure(p);
    expect((err as TransportError).code).toBe("TRANSPORT_ABORTED");
    expect(calls).toHaveLength(1);
  });

  it("reports an answer that is not JSON: a 2xx as a malformed answer, a refusal as a broken server", async () => {
    const answer = fakeFetch(() => new Response("<html>proxy page</html>", { status: 200 }));
    const malformed = await failure(
      http("http://a", { fetch: answer.fetch, retries: 0 }).request(get),
    );
    expect(malformed).toBeInstanceOf(VerificationError);
    expect((malformed as VerificationError).code).toBe("VERIFY_INCOMPLETE");
    const down = fakeFetch(() => new Response("<html>bad gateway</html>", { status: 502 }));
    const broken = await failure(http("http://a", { fetch: down.fetch, retries: 0 }).request(get));
    expect((broken as TransportError).code).toBe("TRANSPORT_BAD_RESPONSE");
  });

  it("refuses an answer without end: by its content-length unread, or once what arrives passes the bound; the next server is tried", async () => {
    let pulled = 0;
    /** A body of 64 KiB chunks for as long as it is read (up to 12.5 MiB, so a broken bound fails, not hangs). */
    const endless = () =>
      new ReadableStream<Uint8Array>({
        pull(c) {
          if (++pulled > 200) return c.close();
          c.enqueue(new TextEncoder().encode(`[${"1,".repeat(32 * 1024)}`));
        },
      });
    const { fetch, calls } = fakeFetch((url) =>
      url.startsWith("http://liar")
        ? new Response(endless(), { status: 200 })
        : json(200, { ok: true }),
    );
    const t = http(["http://liar", "http://honest"], { fetch, maxResponseBytes: 1024 * 1024 });
    expect(await t.request(get)).toEqual({ ok: true });
    expect(calls).toEqual(["http://liar/v1/status", "http://honest/v1/status"]);
    // It stopped reading at the bound (16 chunks of 64 KiB), not at the end there is none of.
    expect(pulled).toBeLessThan(40);
    const declared = fakeFetch(
      () => new Response("{}", { status: 200, headers: { "content-length": String(2 ** 40) } }),
    );
    const refused = await failure(
      http("http://a", { fetch: declared.fetch, retries: 0 }).request(get),
    );
    expect((refused as TransportError).code).toBe("TRANSPORT_TOO_LARGE");
    expect((refused as TransportError).details).toMatchObject({ limit: 32 * 1024 * 1024 });
  });

  it("ends a Server-Sent Events stream whose event never ends, at maxEventBytes", async () => {
    let pulled = 0;
    const { fetch } = fakeFetch(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(new TextEncoder().encode('event: head\ndata: {"h":1}\n\n'));
            },
            // 8 MiB at most, so a broken bound fails rather than hangs.
            pull(c) {
              if (++pulled > 1000) return c.close();
              c.enqueue(new TextEncoder().encode(`data: ${"x".repeat(8192)}\n`));
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        ),
    );
    const seen: string[] = [];
    const err = await failure(
      (async () => {
        for await (const e of http("http://a", { fetch, maxEventBytes: 64 * 1024 }).events(
          "/v1/heads",
          new AbortController().signal,
        ))
          seen.push(`${e.event} ${e.data}`);
      })(),
    );
    expect(seen).toEqual(['head {"h":1}']);
    expect((err as TransportError).code).toBe("TRANSPORT_TOO_LARGE");
  });

  it("parses a Server-Sent Events stream into events", async () => {
    const { fetch } = fakeFetch(
      () =>
        new Response(
          'event: head\ndata: {"h":1}\n\n: heartbeat\n\nevent: head\ndata: {"h":2}\n\n',
          {
            headers: { "content-type": "text/event-stream" },
          },
        ),
    );
    const seen: string[] = [];
    for await (const e of http("http://a", { fetch }).events(
      "/v1/heads",
      new AbortController().signal,
    ))
      seen.push(`${e.event} ${e.data}`);
    expect(seen).toEqual(['head {"h":1}', 'head {"h":2}']);
  });
});

describe("Retry-After", () => {
  afterEach(() => vi.useRealTimers());

  const full = (after: string) =>
    new Response(JSON.stringify(refusal("MEMPOOL_FULL")), {
      status: 503,
      headers: { "content-type": "application/json", "retry-after": after },
    });

  /** Lets the transport's promise chain run, with fake timers standing still. */
  const settle = () => vi.advanceTimersByTimeAsync(0);

  it("holds the next try of that server until the hint, not just the backoff", async () => {
    vi.useFakeTimers();
    let n = 0;
    const { fetch, calls } = fakeFetch(() => (++n === 1 ? full("2") : json(200, { n })));
    const p = http("http://a", { fetch, retryDelayMs: 1 }).request(get);
    await settle();
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_900);
    expect(calls).toHaveLength(1); // the backoff (1 ms) is long over; the hint is not
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toHaveLength(2);
    expect(await p).toEqual({ n: 2 });
  });

  it("cuts a hint longer than maxRetryAfterMs to it", async () => {
    vi.useFakeTimers();
    let n = 0;
    const { fetch, calls } = fakeFetch(() => (++n === 1 ? full("86400") : json(200, { n })));
    const p = http("http://a", { fetch, retryDelayMs: 1, maxRetryAfterMs: 500 }).request(get);
    await settle();
    await vi.advanceTimersByTimeAsync(400);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toHaveLength(2);
    expect(await p).toEqual({ n: 2 });
  });

  it("does not hold back the failover to another server", async () => {
    vi.useFakeTimers();
    const { fetch, calls } = fakeFetch((url) =>
      url.startsWith("http://a") ? full("30") : json(200, { from: "b" }),
    );
    const p = http(["http://a", "http://b"], { fetch, retryDelayMs: 10 }).request(get);
    await settle();
    await vi.advanceTimersByTimeAsync(20); // the backoff at most (10 ms, jitter to 15)
    expect(calls).toEqual(["http://a/v1/status", "http://b/v1/status"]);
    expect(await p).toEqual({ from: "b" });
  });

  it("reads delta-seconds and HTTP dates, and nothing else", () => {
    const now = Date.parse("2026-12-02T07:00:00Z");
    expect(retryAfterMs("3", now)).toBe(3_000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("Wed, 02 Dec 2026 07:00:05 GMT", now)).toBe(5_000);
    expect(retryAfterMs("Wed, 02 Dec 2026 06:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("-1", now)).toBeUndefined();
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
