/**
 * The node's routes: one handler per route of the SDK's table
 * (@edgeledger/sdk/api `routes`), registered generically, so each route's
 * method, path, schemas (validation, response serialization, OpenAPI) and
 * body limit come from the table and only the handler is written here.
 *
 * Handlers parse what the schema cannot say (hex, heights, addresses), call
 * the NodeService and render with the SDK's renderers; errors go to the
 * error layer (errors.ts) by being thrown.
 */
import {
  type DevTransferRequest,
  type HealthJson,
  type RouteDefinition,
  type RouteName,
  routes,
  type SubmitTransactionRequest,
  type SubmitTransactionsRequest,
  type SubmitTransactionsResponse,
  submitResultJson,
  submittedJson,
  submittedLocation,
} from "@edgeledger/sdk/api";
import { ApiError, parseAddress } from "@edgeledger/sdk/protocol";
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
  RouteGenericInterface,
} from "fastify";
import type { Registry } from "prom-client";
import type { HeadStreams } from "./headStreams.ts";
import { heightInput, hexInput } from "./input.ts";
import type { NodeService } from "./service.ts";

/** A route's handler, and what else differs from the table's defaults. */
export interface RouteBinding {
  readonly handler: (request: FastifyRequest, reply: FastifyReply) => unknown;
  /** false: no automatic HEAD route (a HEAD of an event stream would never end). */
  readonly exposeHeadRoute?: boolean;
}

/** The routes a server binds, by name; a route absent (or undefined) is not served. */
export type RouteBindings = { readonly [N in RouteName]?: RouteBinding | undefined };

/** What the handlers need beyond the service. */
export interface RouteDeps {
  readonly service: NodeService;
  readonly streams: HeadStreams;
  readonly registry: Registry;
  readonly headsHeartbeatMs: number;
  /** The OpenAPI document, built from the registered routes. */
  readonly openApi: () => unknown;
}

/**
 * Registers each bound route from the table, in the order given (the order
 * of /openapi.json). A route's body limit is the table's where it sets one,
 * else the server's.
 */
export function registerRoutes(scope: FastifyInstance, bindings: RouteBindings): void {
  for (const [name, binding] of Object.entries(bindings)) {
    if (binding === undefined) continue;
    const route: RouteDefinition = routes[name as RouteName];
    scope.route({
      method: route.method,
      url: route.path,
      schema: schemaOf(route),
      ...(route.bodyLimit !== undefined && { bodyLimit: route.bodyLimit }),
      ...(binding.exposeHeadRoute !== undefined && { exposeHeadRoute: binding.exposeHeadRoute }),
      handler: binding.handler,
    });
  }
}

/** The path patterns of the bound routes. */
export function boundRoutePaths(bindings: RouteBindings): ReadonlySet<string> {
  return new Set(
    Object.entries(bindings)
      .filter(([, binding]) => binding !== undefined)
      .map(([name]) => routes[name as RouteName].path),
  );
}

/**
 * A handler typed by its route's inputs. The cast is sound because fastify
 * runs the route's schema (from the same table) before the handler.
 */
function on<G extends RouteGenericInterface>(
  handler: (request: FastifyRequest<G>, reply: FastifyReply) => unknown,
  extra: Omit<RouteBinding, "handler"> = {},
): RouteBinding {
  return { ...extra, handler: handler as RouteBinding["handler"] };
}

type HeightQuery = { height?: string };

/** The node's handler of each route it serves (devTransfer only on a dev chain). */
export function nodeRoutes(deps: RouteDeps): RouteBindings {
  const { service, streams, registry } = deps;
  const devTransfer = service.devTransfer?.bind(service);
  return {
    submitTransaction: on<{ Body: SubmitTransactionRequest }>(async (request, reply) => {
      const { hash } = await service.submitTransaction(hexInput(request.body.tx, "body", "tx"));
      return reply.code(202).header("location", submittedLocation(hash)).send(submittedJson(hash));
    }),

    submitTransactions: on<{ Body: SubmitTransactionsRequest }>(async (request) => {
      const txs = request.body.txs.map((tx, i) => hexInput(tx, "body", `txs[${i}]`));
      const results = await service.submitTransactions(txs);
      const answer: SubmitTransactionsResponse = { results: results.map(submitResultJson) };
      return answer;
    }),

    devTransfer:
      devTransfer &&
      on<{ Body: DevTransferRequest }>(async (request, reply) => {
        const { hash } = await devTransfer(
          parseAddress(request.body.to),
          BigInt(request.body.amount),
        );
        return reply.code(202).send(submittedJson(hash));
      }),

    getTransaction: on<{ Params: { hash: string } }>(async (request) => {
      const hash = hexInput(request.params.hash, "params", "hash", 32);
      const status = await service.getTransaction(hash);
      if (status === null) {
        throw new ApiError("NOT_FOUND", "This node has never seen a transaction with this hash.", {
          details: { hash: request.params.hash },
        });
      }
      return status;
    }),

    getAccount: on<{ Params: { address: string }; Querystring: HeightQuery }>(async (request) => {
      const address = parseAddress(request.params.address);
      return service.getAccount(address, heightInput(request.query.height, "querystring"));
    }),

    getBlock: on<{ Params: { id: string } }>(async (request) => {
      const { id } = request.params;
      let block: Awaited<ReturnType<NodeService["getBlockByHeight"]>>;
      if (id === "latest") {
        block = await service.getBlockByHeight((await service.getStatus()).height);
      } else if (id.length === 64) {
        block = await service.getBlockByHash(hexInput(id, "params", "id", 32));
      } else {
        block = await service.getBlockByHeight(heightInput(id, "params", "id"));
      }
      if (block === null) {
        throw new ApiError("NOT_FOUND", "No final block with this id.", { details: { id } });
      }
      return block;
    }),

    getHeader: on<{ Params: { height: string } }>(async (request) => {
      const height = heightInput(request.params.height, "params");
      const header = await service.getHeaderByHeight(height);
      if (header === null) {
        throw new ApiError("NOT_FOUND", "No final header at this height.", {
          details: { height },
        });
      }
      return header;
    }),

    getGenesis: on(async () => service.getGenesis()),

    getValidators: on<{ Querystring: HeightQuery }>(async (request) =>
      service.getValidators(heightInput(request.query.height, "querystring")),
    ),

    getStatus: on(async () => service.getStatus()),

    // A HEAD request would open a stream that never ends.
    subscribeHeads: on(
      (request, reply) => streams.open(service, request, reply, deps.headsHeartbeatMs),
      { exposeHeadRoute: false },
    ),

    getMetrics: on(async (_request, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    ),

    getOpenApi: on(async () => deps.openApi()),

    getHealth: on(async (): Promise<HealthJson> => ({ ok: true })),

    // Readiness by default (503 unless ready, the body in both cases), liveness with ?probe=live.
    getNodeHealth: on<{ Querystring: { probe?: "live" | "ready" } }>(async (request, reply) => {
      const health = await service.getNodeHealth();
      const ok = request.query.probe === "live" || health.status === "ready";
      return reply
        .code(ok ? 200 : 503)
        .header("cache-control", "no-store")
        .send(health);
    }),
  };
}

const NO_QUERY = { type: "object", additionalProperties: false, properties: {} } as const;

/** A route definition as fastify's schema (which @fastify/swagger also reads). */
function schemaOf(route: RouteDefinition): FastifySchema {
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.params && { params: route.params }),
    // A route without a query refuses one, as the edge does: `?x=1` on a
    // block read is a mistake to report, and would split caches by junk.
    querystring: route.querystring ?? NO_QUERY,
    ...(route.body && { body: route.body }),
    response: route.response,
  };
}
