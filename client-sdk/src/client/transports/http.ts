/**
 * The HTTP transport: how the client reaches nodes or edges. `fetch` only
 * (browsers, workers, workerd, Node), so no Node built-ins. It retries what
 * may succeed on a second try (a timeout, a refused connection, 429, 5xx)
 * with exponential backoff and jitter, failing over across the URLs it was
 * given and sticking to the last one that answered; it never retries a
 * refusal (4xx): those become typed errors at once. The caller's AbortSignal
 * ends everything, including the waits between tries.
 *
 * Nothing it returns is trusted: the actions verify every answer (see
 * ../verify/lightClient.ts), so failing over to a bad server costs a retry, not
 * correctness.
 */
import { apiErrorStatus } from "../../api/status.ts";
import type { ErrorJson } from "../../api/types.ts";
import type { BaseError } from "../../errors/base.ts";
import { TransportError, VerificationError } from "../../errors/client.ts";
import { ApiError, type ApiErrorCode, TransactionError } from "../../errors/protocol.ts";
import { sleep } from "../utils/sleep.ts";
import {
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_MAX_RESPONSE_BYTES,
  readBoundedJson,
  tooLarge,
} from "./body.ts";
import type { ServerEvent, Transport, TransportRequest } from "./transport.ts";

export interface HttpTransportOptions {
  /** Per try (ms). Default 10 000. */
  readonly timeoutMs?: number;
  /** Tries beyond the first, spread over the URLs. Default 2 per URL. */
  readonly retries?: number;
  /** First backoff (ms), doubled each retry, with ±50% jitter. Default 100. */
  readonly retryDelayMs?: number;
  /** A fetch implementation (tests, proxies). Default: globalThis.fetch. */
  readonly fetch?: typeof fetch;
  /**
   * The longest a server's Retry-After may hold back the next try of that
   * server (ms); a longer hint is cut to this, so a hostile or confused
   * server cannot stall a client. Default 10 000.
   */
  readonly maxRetryAfterMs?: number;
  /**
   * The largest answer read (bytes); a larger one is refused
   * (TRANSPORT_TOO_LARGE) without reading the rest, and the next server is
   * tried. Default 32 MiB (a full block as JSON is under 16 MiB).
   */
  readonly maxResponseBytes?: number;
  /** The largest server-sent event read (bytes); a larger one ends the stream. Default 1 MiB. */
  readonly maxEventBytes?: number;
}

/**
 * A Retry-After header's wait (ms): delta-seconds or an HTTP date (RFC 9110
 * 10.2.3); undefined when absent or not one of those.
 */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^[0-9]+$/.test(v)) return Number(v) * 1000;
  // Every HTTP date form starts with the day's name; Date.parse alone takes "-1" for a year.
  if (!/^[A-Za-z]{3}/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The typed error for a server's `{ code, message, details }` answer: TX_* and
 * MEMPOOL_* codes are TransactionErrors (the same codes the node uses), the
 * API's own codes ApiErrors; an unknown code keeps its text in `details`.
 */
export function errorFromResponse(status: number, body: unknown): BaseError {
  const e = body as Partial<ErrorJson> | null;
  const code = typeof e?.code === "string" ? e.code : "";
  const message = typeof e?.message === "string" ? e.message : `HTTP ${status}`;
  const details = { ...(typeof e?.details === "object" && e.details), status };
  if (code.startsWith("TX_") || code.startsWith("MEMPOOL_")) {
    return new TransactionError(code as TransactionError["code"], message, { details });
  }
  if (Object.hasOwn(apiErrorStatus, code))
    return new ApiError(code as ApiErrorCode, message, { details });
  return new ApiError(status >= 500 ? "INTERNAL" : "REQUEST_INVALID", message, {
    details: { ...details, serverCode: code || undefined },
  });
}

/** Worth another try (maybe elsewhere): overload, unavailability, server failure. */
function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

function aborted(signal: AbortSignal): TransportError {
  return new TransportError("TRANSPORT_ABORTED", "The request was aborted by the caller.", {
    cause: signal.reason,
  });
}

/** A transport over one or several base URLs (nodes or edges serving the same API). */
export function http(
  urls: string | readonly string[],
  options: HttpTransportOptions = {},
): Transport {
  const list = (typeof urls === "string" ? [urls] : [...urls]).map((u) => u.replace(/\/+$/, ""));
  if (list.length === 0) throw new TransportError("TRANSPORT_UNREACHABLE", "No URL given.");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const tries = ((options.retries ?? 2) + 1) * list.length;
  const baseDelay = options.retryDelayMs ?? 100;
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const maxRetryAfter = options.maxRetryAfterMs ?? 10_000;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  let preferred = 0;

  const urlFor = (base: string, path: string, query?: TransportRequest["query"]) => {
    const u = new URL(base + path);
    for (const [k, v] of Object.entries(query ?? {}))
      if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  };

  return {
    urls: list,

    async request<T>(req: TransportRequest): Promise<T> {
      let last: unknown;
      // When each URL may be tried again, from its own Retry-After: a full
      // server's hint holds back only that server, not the failover to the next.
      const notBefore = new Map<number, number>();
      for (let attempt = 0; attempt < tries; attempt++) {
        if (req.signal?.aborted) throw aborted(req.signal);
        const index = (preferred + attempt) % list.length;
        if (attempt > 0) {
          const backoff = baseDelay * 2 ** Math.floor((attempt - 1) / list.length);
          const hinted = (notBefore.get(index) ?? 0) - Date.now();
          await sleep(Math.max(backoff * (0.5 + Math.random()), hinted), req.signal);
          if (req.signal?.aborted) throw aborted(req.signal);
        }
        const timeout = AbortSignal.timeout(timeoutMs);
        const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
        let res: Response;
        try {
          res = await doFetch(urlFor(list[index]!, req.path, req.query), {
            method: req.method,
            headers: {
              accept: "application/json",
              ...(req.body !== undefined && { "content-type": "application/json" }),
            },
            ...(req.body !== undefined && { body: JSON.stringify(req.body) }),
            signal,
          });
        } catch (err) {
          if (req.signal?.aborted) throw aborted(req.signal);
          last = timeout.aborted
            ? new TransportError("TRANSPORT_TIMEOUT", `No answer within ${timeoutMs} ms.`, {
                details: { url: list[index] },
              })
            : new TransportError("TRANSPORT_UNREACHABLE", "Could not connect.", {
                details: { url: list[index] },
                cause: err,
              });
          continue;
        }
        let body: unknown;
        try {
          body = await readBoundedJson(res, maxResponseBytes, { url: list[index] });
        } catch (err) {
          if (req.signal?.aborted) throw aborted(req.signal);
          // A body without end costs this server a retry elsewhere, as a broken answer does.
          if (err instanceof TransportError) {
            last = err;
            continue;
          }
          const details = { url: list[index], status: res.status };
          // A 2xx claims to be the answer: one that is not JSON is a malformed
          // answer (VerificationError, as the README promises for every forged
          // or broken answer), where a refusal that is not JSON is just a broken server.
          last = res.ok
            ? new VerificationError(
                "VERIFY_INCOMPLETE",
                `The server answered ${res.status} with a body that is not JSON.`,
                { details, cause: err },
              )
            : new TransportError(
                "TRANSPORT_BAD_RESPONSE",
                `The server answered ${res.status} with a body that is not JSON.`,
                { details, cause: err },
              );
          continue;
        }
        if (res.ok) {
          preferred = index;
          return body as T;
        }
        const error = errorFromResponse(res.status, body);
        if (!retryable(res.status)) throw error;
        const hint = retryAfterMs(res.headers.get("retry-after"), Date.now());
        if (hint !== undefined) notBefore.set(index, Date.now() + Math.min(hint, maxRetryAfter));
        last = error;
      }
      if (last instanceof Error) throw last;
      throw new TransportError("TRANSPORT_UNREACHABLE", "No server answered.");
    },

    async *events(path: string, signal: AbortSignal): AsyncIterable<ServerEvent> {
      const res = await doFetch(urlFor(list[preferred]!, path), {
        headers: { accept: "text/event-stream" },
        signal,
      }).catch((err: unknown) => {
        if (signal.aborted) throw aborted(signal);
        throw new TransportError("TRANSPORT_UNREACHABLE", "Could not open the event stream.", {
          details: { url: list[preferred] },
          cause: err,
        });
      });
      if (!res.ok || !res.body)
        throw new TransportError("TRANSPORT_BAD_RESPONSE", `Event stream answered ${res.status}.`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          // Events end with a blank line; fields are `name: value` lines.
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = "message";
            const data: string[] = [];
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) event = line.slice(6).trim();
              else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
            }
            if (data.length > 0) yield { event, data: data.join("\n") };
          }
          // What is left is one unfinished event: it may not grow without end (a
          // server that never sends the blank line). Counted in characters, at
          // most the bytes they came as.
          if (buffer.length > maxEventBytes)
            throw tooLarge(maxEventBytes, { url: list[preferred] });
        }
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      } finally {
        reader.releaseLock();
      }
    },
  };
}
