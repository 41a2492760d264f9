/**
 * How a read's outcome becomes an HTTP answer: Cache-Control by what the
 * URL means (final, "latest", kept for a while), the ETag and a 304 on a
 * match, the verified height, where it came from (hit, miss, shared), and
 * which fields no proof backs. Upstream refusals pass through, never cached.
 */
import { type CachedAnswer, IMMUTABLE_MAX_AGE, type StoredAnswer, ttlOf } from "../cache/store.ts";
import { JSON_TYPE, jsonAnswer, respond, UNVERIFIED } from "../http/respond.ts";
import type { Outcome, ReadPlan } from "./plan.ts";

export type AnswerSource = "hit" | "miss" | "shared";

export function answerResponse(
  ifNoneMatch: string | undefined,
  answer: CachedAnswer,
  plan: ReadPlan,
  cacheable: boolean,
  source: AnswerSource,
  latestMaxAgeSeconds: number,
  // Cached answers are final, so only the route's own unverified fields apply to a hit.
  unverified: readonly string[] | undefined = plan.unverified,
): Response {
  const headers: Record<string, string> = {
    "content-type": JSON_TYPE,
    "cache-control": cacheControl(plan, cacheable, latestMaxAgeSeconds),
    "x-edgeledger-cache": source,
  };
  if (unverified) headers[UNVERIFIED] = unverified.join(", ");
  if (answer.etag) headers["etag"] = answer.etag;
  if (answer.height !== undefined) headers["x-edgeledger-height"] = String(answer.height);
  if (answer.etag && etagMatches(ifNoneMatch, answer.etag)) return respond(304, null, headers);
  return respond(200, (answer as Partial<StoredAnswer>).bytes ?? answer.body, headers);
}

/** An upstream's refusal (a 404 for a height or transaction) is its word: nothing proves absence. */
export function refusalResponse(outcome: Extract<Outcome, { kind: "refusal" }>): Response {
  return jsonAnswer(outcome.status, outcome.error, {
    "cache-control": "no-store",
    [UNVERIFIED]: "*",
  });
}

/** What HTTP caches may do with an answer: by the plan, since it knows what the URL means. */
export function cacheControl(plan: ReadPlan, cacheable: boolean, latestMaxAge: number): string {
  if (!cacheable) return "no-store";
  // "latest" URLs change meaning with each head, whatever their data.
  if (plan.latest) return `public, max-age=${latestMaxAge}`;
  const ttl = ttlOf(plan.policy ?? { immutable: true });
  return ttl === null
    ? `public, max-age=${IMMUTABLE_MAX_AGE}, immutable`
    : `public, max-age=${ttl}`;
}

/** If-None-Match against our tag (weak comparison, RFC 9110 §13.1.2). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  const ours = bare(etag);
  return header.split(",").some((t) => t.trim() === "*" || bare(t) === ours);
}
