/**
 * fetchVerified against scripted upstreams: a lying upstream is skipped
 * and counted, never served; a lagging one, or one that pruned what is
 * asked, is passed over; a refusal is final; and the two ways of finding no answer are told apart.
 */

import { VerificationError } from "@edgeledger/sdk";
import type { ErrorJson } from "@edgeledger/sdk/api";
import { describe, expect, it } from "vitest";
import { EdgeError } from "../errors.ts";
import { UpstreamPool } from "../upstream/pool.ts";
import type { UpstreamReply } from "../upstream/request.ts";
import type { AnswerVerifier, Verified } from "../upstream/verify.ts";
import { type FetchVerifiedDeps, fetchVerified } from "./fetchVerified.ts";
import type { ReadPlan } from "./plan.ts";

type Script = "good" | "forged" | "down" | "missing" | "refuses" | "pruned";

const NOT_FOUND: ErrorJson = { code: "HEIGHT_NOT_AVAILABLE", message: "not yet", details: {} };

function upstreams(script: Script[]) {
  const asked: number[] = [];
  const failures: { i: number; err: unknown }[] = [];
  const deps: FetchVerifiedDeps = {
    upstreams: {
      urls: script.map((_, i) => `http://up${i}`),
      pool: new UpstreamPool(script.map((_, i) => `http://up${i}`)),
      get: async (i): Promise<UpstreamReply> => {
        asked.push(i);
        const s = script[i]!;
        if (s === "down")
          throw new EdgeError("EDGE_UPSTREAM_UNAVAILABLE", "down", {
            details: { upstream: i, reason: "unreachable" },
          });
        if (s === "missing") return { ok: false, status: 404, error: NOT_FOUND };
        if (s === "pruned")
          return { ok: false, status: 410, error: { ...NOT_FOUND, code: "STATE_PRUNED" } };
        if (s === "refuses")
          return { ok: false, status: 400, error: { ...NOT_FOUND, code: "REQUEST_INVALID" } };
        return { ok: true, status: 200, json: { good: s === "good", from: i } };
      },
      verifierFor: () => ({}) as AnswerVerifier,
      countFailure: (i, err) => failures.push({ i, err }),
    },
    observe: () => {},
  };
  return { deps, asked, failures };
}

const plan = (over: Partial<ReadPlan> = {}): ReadPlan => ({
  route: "getHeader",
  key: "header/3",
  path: "/v1/headers/3",
  verify: async (_v, json): Promise<Verified> => {
    const j = json as { good: boolean };
    if (!j.good) throw new VerificationError("VERIFY_PROOF", "forged");
    return { json, etag: '"h3"', height: 3, final: true };
  },
  latest: false,
  notFoundMeansLagging: false,
  ...over,
});

describe("fetchVerified", () => {
  it("skips a forged answer, counts it, and serves the next that verifies", async () => {
    const { deps, asked, failures } = upstreams(["forged", "good"]);
    const outcome = await fetchVerified(deps, plan());
    expect(outcome).toEqual({
      kind: "answer",
      answer: { body: JSON.stringify({ good: true, from: 1 }), etag: '"h3"', height: 3 },
      policy: { immutable: true },
    });
    expect(asked).toEqual([0, 1]);
    expect(failures.map((f) => f.i)).toEqual([0]);
    expect(deps.upstreams.pool.isHealthy(0)).toBe(false);
  });

  it("none verifying is EDGE_UNVERIFIED, naming each failure and the ones down", async () => {
    const { deps } = upstreams(["forged", "down", "forged"]);
    await expect(fetchVerified(deps, plan())).rejects.toMatchObject({
      code: "EDGE_UNVERIFIED",
      details: {
        failures: [
          { upstream: 0, code: "VERIFY_PROOF" },
          { upstream: 2, code: "VERIFY_PROOF" },
        ],
        unavailable: 1,
      },
    });
  });

  it("none answering is EDGE_UPSTREAM_UNAVAILABLE", async () => {
    const { deps } = upstreams(["down", "down"]);
    await expect(fetchVerified(deps, plan())).rejects.toMatchObject({
      code: "EDGE_UPSTREAM_UNAVAILABLE",
      details: { upstreams: 2 },
    });
  });

  it("a 404 for what the edge has seen is lag: the next is asked, and the 404 is kept for last", async () => {
    const lagging = upstreams(["missing", "good"]);
    expect((await fetchVerified(lagging.deps, plan({ notFoundMeansLagging: true }))).kind).toBe(
      "answer",
    );
    const allLag = upstreams(["missing", "missing"]);
    expect(await fetchVerified(allLag.deps, plan({ notFoundMeansLagging: true }))).toEqual({
      kind: "refusal",
      status: 404,
      error: NOT_FOUND,
    });
    expect(allLag.asked).toEqual([0, 1]);
  });

  it("a 404 for what the edge has not seen is the answer: no other upstream is asked", async () => {
    const { deps, asked } = upstreams(["missing", "good"]);
    expect(await fetchVerified(deps, plan())).toMatchObject({ kind: "refusal", status: 404 });
    expect(asked).toEqual([0]);
  });

  it("a refusal is the request's fault: final, no other upstream asked, nothing counted", async () => {
    const { deps, asked, failures } = upstreams(["refuses", "good"]);
    expect((await fetchVerified(deps, plan())).kind).toBe("refusal");
    expect(asked).toEqual([0]);
    expect(failures).toEqual([]);
  });

  it("an answer that is not final, or has no tag, is never stored", async () => {
    const { deps } = upstreams(["good"]);
    const pending = plan({
      verify: async (_v, json) => ({ json, final: false, unverified: ["status"] }),
    });
    expect(await fetchVerified(deps, pending)).toMatchObject({
      kind: "answer",
      policy: null,
      unverified: ["status"],
    });
  });

  it("an edge-side refusal raised while verifying is answered, not blamed on the upstream", async () => {
    const { deps, asked, failures } = upstreams(["good", "good"]);
    const refusing = plan({
      verify: async () => {
        throw new EdgeError("EDGE_NOT_VERIFIABLE", "cannot vouch");
      },
    });
    await expect(fetchVerified(deps, refusing)).rejects.toMatchObject({
      code: "EDGE_NOT_VERIFIABLE",
    });
    expect(asked).toEqual([0]);
    expect(failures).toEqual([]);
  });

  it("a 410 (pruned there) asks the next upstream, an archive, and is kept for last", async () => {
    const { deps, asked, failures } = upstreams(["pruned", "good"]);
    expect((await fetchVerified(deps, plan())).kind).toBe("answer");
    expect(asked).toEqual([0, 1]);
    expect(failures).toEqual([]);
    const allPruned = upstreams(["pruned", "pruned"]);
    expect(await fetchVerified(allPruned.deps, plan())).toMatchObject({
      kind: "refusal",
      status: 410,
      error: { code: "STATE_PRUNED" },
    });
  });
});
