/**
 * The API as a running node serves it: the node service over its chain,
 * database and mempool (nodeService.ts) behind the fastify server
 * (server.ts), listening on the configured address. Wiring only.
 */
import type { FastifyInstance } from "fastify";
import { createNodeService, type NodeServiceDeps } from "./nodeService.ts";
import { type ApiServerOptions, createApiServer } from "./server.ts";
import type { NodeService } from "./service.ts";

export interface RunningApi {
  readonly url: string;
  close(): Promise<void>;
}

export async function startApi(
  service: NodeServiceDeps,
  options: ApiServerOptions & { readonly host: string; readonly port: number },
): Promise<RunningApi> {
  return listenApi(createNodeService(service), options);
}

/** The server over any NodeService (also the one a state sync join serves meanwhile, statesync/joiningApi.ts). */
export async function listenApi(
  service: NodeService,
  options: ApiServerOptions & { readonly host: string; readonly port: number },
): Promise<RunningApi> {
  const { host, port, ...serverOptions } = options;
  const server: FastifyInstance = createApiServer(service, serverOptions);
  const url = await server.listen({ host, port });
  return { url, close: () => server.close() };
}
