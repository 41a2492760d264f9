/**
 * @edgeledger/sdk/api: the HTTP API's routes and JSON shapes, and the one
 * rendering of protocol objects into those shapes, defined once and used by
 * the node (server), the edge and the SDK (client).
 */
export * from "./json.ts";
export * from "./paths.ts";
export * from "./requestForm.ts";
export * from "./routes.ts";
export * from "./status.ts";
export * from "./types.ts";
