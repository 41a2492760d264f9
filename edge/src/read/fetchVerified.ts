/**
 * The heart of the read pipeline: asks upstreams in health order until one
 * answer verifies, and says what came of it. An answer that fails is
 * counted and the next upstream asked; a refusal (a 4xx) is the request's
 * fault and final, except a 404 for something the edge has already seen,
 * which means that upstream lags; none verifying is EDGE_UNVERIFIED, none
 * answering EDGE_UPSTREAM_UNAVAILABLE. Nothing here caches or answers HTTP.
 */
import type { BlockHeader } from "@edgeledger/sdk/protocol";
import type { CachedAnswer } from "../cache/store.ts";
import { EdgeError } from "../errors.ts";
import type { UpstreamReply } from "../upstream/request.ts";
import { errorCode, isUpstreamFailure, type Upstreams } from "../upstream/upstreams.ts";
import type { Verified } from "../upstream/verify.ts";
import type { Outcome, ReadPlan } from "./plan.ts";

export interface FetchVerifiedDeps {
  readonly upstreams: Pick<Upstreams, "urls" | "pool" | "get" | "verifierFor" | "countFailure">;
  /** Told of every verified header (the head tracker learns heads from reads too). */
  readonly observe: (header: BlockHeader) => void;
}

export async function fetchVerified(deps: FetchVerifiedDeps, plan: ReadPlan): Promise<Outcome> {
  const { upstreams } = deps;
  const { pool } = upstreams;
  let lagging: Outcome | null = null;
  const failures: { upstream: number; code: string }[] = [];
  let unavailable = 0;
  for (const i of pool.order()) {
    let reply: UpstreamReply;
    try {
      reply = await upstreams.get(i, plan.path);
    } catch (err) {
      pool.failed(i);
      upstreams.countFailure(i, err);
      unavailable++;
      continue;
    }
    if (!reply.ok) {
      const refusal: Outcome = { kind: "refusal", status: reply.status, error: reply.error };
      // 410: that upstream pruned it (STATE_PRUNED, BLOCK_PRUNED, HEADER_PRUNED); an archive may have it.
      if ((plan.notFoundMeansLagging && reply.status === 404) || reply.status === 410) {
        lagging = refusal;
        continue;
      }
      return refusal;
    }
    let verified: Verified;
    try {
      verified = await plan.verify(upstreams.verifierFor(i), reply.json, i);
    } catch (err) {
      // Not about this upstream (a request this edge cannot vouch for): answer it.
      if (err instanceof EdgeError && !isUpstreamFailure(err) && err.code !== "EDGE_UNVERIFIED")
        throw err;
      pool.failed(i);
      upstreams.countFailure(i, err);
      if (isUpstreamFailure(err)) unavailable++;
      else failures.push({ upstream: i, code: errorCode(err) });
      continue;
    }
    pool.succeeded(i);
    if (verified.header) deps.observe(verified.header);
    const answer: CachedAnswer = {
      body: JSON.stringify(verified.json),
      etag: verified.etag ?? "",
      ...(verified.height !== undefined && { height: verified.height }),
    };
    const policy = verified.final && verified.etag ? (plan.policy ?? { immutable: true }) : null;
    return {
      kind: "answer",
      answer,
      policy,
      ...(verified.unverified && { unverified: verified.unverified }),
    };
  }
  if (lagging) return lagging;
  if (failures.length > 0)
    throw new EdgeError(
      "EDGE_UNVERIFIED",
      "No upstream's answer verified; nothing was cached. Retry later or ask another edge.",
      { details: { failures, unavailable } },
    );
  throw new EdgeError(
    "EDGE_UPSTREAM_UNAVAILABLE",
    "No upstream answered. Retry later or ask another edge.",
    { details: { upstreams: upstreams.urls.length } },
  );
}
