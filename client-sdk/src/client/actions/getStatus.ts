/**
 * `getStatus`: the server's status (chain id, head height, mempool). The
 * one read with nothing to verify: informational only.
 */
import { paths } from "../../api/paths.ts";
import type { StatusJson } from "../../api/types.ts";
import type { BaseClient } from "../clients/baseClient.ts";

/** The server's status. Informational only: nothing in it is verified. */
export function getStatus(client: BaseClient, options: { signal?: AbortSignal } = {}) {
  return client.transport.request<StatusJson>({
    method: "GET",
    path: paths.getStatus,
    ...(options.signal && { signal: options.signal }),
  });
}
