/**
 * `edgeledger status`: the node's status as JSON, through the SDK's
 * getStatus, with its health (GET /v1/health: state, height, blocks
 * behind, last commit age, peers, and under `health.storage` what pruning
 * keeps: the earliest state, body and header served, snapshots, size on
 * disk, last prune pass) under `health`. While the node joins by state
 * sync it has no chain to report on: then `status: "state-syncing"`, the
 * join's progress in words (`progress`) and the health. Informational:
 * nothing in either is verified (the health is the node's own word).
 */
import { type NodeHealthJson, paths } from "@edgeledger/sdk/api";
import { ApiError } from "@edgeledger/sdk/protocol";
import { clientFor, urlOf } from "../../util/client.ts";
import type { StatusArgs } from "./options.ts";
import { joinProgress } from "./progress.ts";

export async function statusHandler(args: StatusArgs): Promise<void> {
  // The health first: a node joining by state sync answers every other
  // route 503 UNAVAILABLE until its chain opens, and the join's progress is
  // what there is to show then (statesync/joiningApi.ts).
  const health = await healthOf(urlOf(args));
  if (health?.status === "state-syncing") {
    console.log(
      JSON.stringify(
        {
          status: "state-syncing",
          ...(health.stateSync && { progress: joinProgress(health.stateSync) }),
          health,
        },
        null,
        2,
      ),
    );
    return;
  }
  const status = await clientFor(args).getStatus();
  console.log(JSON.stringify({ ...status, health }, null, 2));
}

/**
 * The node's health report; `?probe=live` so a node that is not ready still
 * answers 200 with it. null from a node too old to serve it.
 */
async function healthOf(url: string): Promise<NodeHealthJson | null> {
  const res = await fetch(`${url}${paths.getNodeHealth}?probe=live`);
  if (res.status === 404) return null;
  if (!res.ok)
    throw new ApiError(
      "UNAVAILABLE",
      `The node answered GET ${paths.getNodeHealth} with ${res.status}; retry, or read its log.`,
      {
        details: { url, status: res.status },
      },
    );
  return (await res.json()) as NodeHealthJson;
}
