/**
 * The API while a join runs (joiningApi.ts over the real server): health
 * answers the join's progress with 503 (ready probes fail, liveness holds),
 * every chain route answers 503 UNAVAILABLE in the error shape, and
 * /metrics serves the state sync counters as the join moves.
 */
import type { NodeHealthJson } from "@edgeledger/sdk/api";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { createApiServer } from "../api/server.ts";
import { joiningHealth } from "../health/health.ts";
import { registerStateSyncMetrics } from "../metrics/statesync.ts";
import { SyncError } from "../sync/errors.ts";
import { joiningService } from "./joiningApi.ts";
import { StateSyncProgress } from "./progress.ts";

const registry = new Registry();
const progress = new StateSyncProgress(registerStateSyncMetrics(registry));
const app = createApiServer(
  joiningService(() => joiningHealth(progress.json(), 3, null)),
  { registry },
);

afterAll(() => app.close());

describe("the API while joining by state sync", () => {
  it("answers /v1/health with state-syncing and the join's progress (503; 200 for ?probe=live)", async () => {
    progress.phase("fetching", 40);
    progress.planned(8, 3);
    progress.chunkWritten("peer-a", 1000);
    progress.refused(new SyncError("SYNC_BAD_CHUNK", "a bad chunk"), true);
    const res = await app.inject({ method: "GET", url: "/v1/health" });
    expect(res.statusCode).toBe(503);
    expect(res.json<NodeHealthJson>()).toEqual({
      status: "state-syncing",
      height: 0,
      lastCommitAgeMs: 0,
      peers: 3,
      validator: false,
      bestPeerHeight: 40,
      behind: 40,
      haltHeight: null,
      stateSync: {
        phase: "fetching",
        snapshotHeight: 40,
        chunksDone: 4,
        chunksTotal: 8,
        bytes: 1000,
        chunksRefused: 1,
        peers: 1,
      },
    });
    expect((await app.inject({ method: "GET", url: "/v1/health?probe=live" })).statusCode).toBe(
      200,
    );
  });

  it("answers the chain's routes 503 UNAVAILABLE, naming the join", async () => {
    for (const url of ["/v1/status", "/v1/headers/3", "/v1/genesis"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({
        code: "UNAVAILABLE",
        details: { stateSync: { snapshotHeight: 40 } },
      });
    }
  });

  it("serves the state sync metrics: chunks, bytes, refusals by code", async () => {
    const text = await (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toMatch(/^edgeledger_statesync_chunks_total 1$/m);
    expect(text).toMatch(/^edgeledger_statesync_bytes_total 1000$/m);
    expect(text).toMatch(/^edgeledger_statesync_refused_total\{code="SYNC_BAD_CHUNK"\} 1$/m);
  });
});
