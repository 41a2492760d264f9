/**
 * @edgeledger/sdk/api: the HTTP API's routes and JSON shapes, defined once
 * and used by the node (server), the edge and the SDK (client).
 */
export * from "./paths.ts";
export * from "./routes.ts";
export * from "./types.ts";
