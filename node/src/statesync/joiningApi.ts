/**
 * The HTTP API while the node joins by state sync: the chain does not open
 * until the join ends (minutes, at 10^6 accounts), and a probe or an
 * operator must still see why the node is not ready. The same server
 * (api/server.ts: routes, error shapes, /metrics) over a service that
 * answers GET /v1/health with the join's progress (status state-syncing,
 * 503) and every other route with 503 UNAVAILABLE (api/start.ts listenApi
 * serves it). The join closes it when it ends, and the node starts the real
 * API on the same address.
 */
import type { NodeHealthJson } from "@edgeledger/sdk/api";
import { ApiError } from "@edgeledger/sdk/protocol";
import type { NodeService } from "../api/service.ts";

/** A NodeService with no chain yet: health only. */
export function joiningService(health: () => NodeHealthJson): NodeService {
  const unavailable = async (): Promise<never> => {
    throw new ApiError(
      "UNAVAILABLE",
      "This node is joining by state sync and has no chain yet; GET /v1/health shows the join's progress. Try another node, or later.",
      { details: { stateSync: health().stateSync } },
    );
  };
  return {
    submitTransaction: unavailable,
    submitTransactions: unavailable,
    getTransaction: unavailable,
    getAccount: unavailable,
    getBlockByHeight: unavailable,
    getBlockByHash: unavailable,
    getHeaderByHeight: unavailable,
    getGenesis: unavailable,
    getValidators: unavailable,
    getStatus: unavailable,
    getNodeHealth: async () => health(),
    onHead: () => () => undefined,
  };
}
