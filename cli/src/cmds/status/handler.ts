/**
 * `edgeledger status`: the node's status as JSON, through the SDK's
 * getStatus, with its health (GET /v1/health: state, height, blocks
 * behind, last commit age, peers, and under `health.storage` what pruning
 * keeps: the earliest state, body and header served, snapshots, size on
 * disk, last prune pass) under `health`. Informational: nothing in either
 * is verified (the health is the node's own word).
 */
import { type NodeHealthJson, paths } from "@edgeledger/sdk/api";
import { ApiError } from "@edgeledger/sdk/protocol";
import { clientFor, urlOf } from "../../util/client.ts";
import type { StatusArgs } from "./options.ts";

export async function statusHandler(args: StatusArgs): Promise<void> {
  const status = await clientFor(args).getStatus();
  console.log(JSON.stringify({ ...status, health: await healthOf(urlOf(args)) }, null, 2));
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
