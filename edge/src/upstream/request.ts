/**
 * One HTTP exchange with one upstream, with a deadline. Sorts what comes
 * back into an answer (2xx JSON), a refusal (a 4xx in the API's error
 * shape: the request's fault, the same on every upstream) or a failure
 * (no answer, 429, 5xx, not JSON, larger than any answer of the API: this
 * upstream's fault, try another), thrown as EdgeError
 * EDGE_UPSTREAM_UNAVAILABLE with the reason. An answer's size is bounded
 * as it is read (the SDK's readBoundedJson): an upstream that sends a body
 * without end costs the edge a bounded read, not its memory.
 */
import { DEFAULT_MAX_RESPONSE_BYTES, readBoundedJson, TransportError } from "@edgeledger/sdk";
import type { ErrorJson } from "@edgeledger/sdk/api";
import { EdgeError } from "../errors.ts";

export type UpstreamReply =
  | { readonly ok: true; readonly status: number; readonly json: unknown }
  | { readonly ok: false; readonly status: number; readonly error: ErrorJson };

export interface RequestOptions {
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  /** Names the upstream in errors (its index: URLs may be private). */
  readonly upstream: number;
}

export type FailureReason = "timeout" | "unreachable" | "status" | "not-json" | "too-large";

function failure(
  reason: FailureReason,
  upstream: number,
  extra: { status?: number; cause?: unknown } = {},
): EdgeError {
  return new EdgeError("EDGE_UPSTREAM_UNAVAILABLE", `Upstream ${upstream} failed (${reason}).`, {
    details: { upstream, reason, ...(extra.status !== undefined && { status: extra.status }) },
    ...(extra.cause !== undefined && { cause: extra.cause }),
  });
}

export function failureReason(err: unknown): FailureReason | undefined {
  if (!(err instanceof EdgeError) || err.code !== "EDGE_UPSTREAM_UNAVAILABLE") return undefined;
  return err.details["reason"] as FailureReason;
}

function isErrorJson(v: unknown): v is ErrorJson {
  const e = v as Partial<ErrorJson> | null;
  return typeof e?.code === "string" && typeof e.message === "string";
}

/** Fetches `url`; the raw Response for 2xx-4xx, a failure for the rest. */
export async function exchange(
  url: string,
  init: RequestInit,
  o: RequestOptions,
): Promise<Response> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  let res: Response;
  try {
    res = await o.fetch(url, { ...init, signal: timeout });
  } catch (err) {
    throw failure(timeout.aborted ? "timeout" : "unreachable", o.upstream, { cause: err });
  }
  // 429 and 5xx: this upstream cannot serve now; another may.
  if (res.status === 429 || res.status >= 500) {
    await res.body?.cancel();
    throw failure("status", o.upstream, { status: res.status });
  }
  return res;
}

/** A GET of JSON. */
export async function getJson(url: string, o: RequestOptions): Promise<UpstreamReply> {
  const res = await exchange(url, { headers: { accept: "application/json" } }, o);
  let json: unknown;
  try {
    json = await readBoundedJson(res, DEFAULT_MAX_RESPONSE_BYTES);
  } catch (err) {
    const reason = err instanceof TransportError ? "too-large" : "not-json";
    throw failure(reason, o.upstream, { status: res.status, cause: err });
  }
  if (res.ok) return { ok: true, status: res.status, json };
  if (!isErrorJson(json)) throw failure("not-json", o.upstream, { status: res.status });
  return {
    ok: false,
    status: res.status,
    error: {
      code: json.code,
      message: json.message,
      details: typeof json.details === "object" && json.details !== null ? json.details : {},
    },
  };
}
