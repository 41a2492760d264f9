/**
 * @edgeledger/sdk: the client (createClient and its actions, verified by a
 * light client) and the protocol it speaks. Subpaths: `/protocol` (the
 * protocol alone, shared with node and edge), `/api` (routes and JSON
 * shapes), `/protocol/node` (Node-only fast paths).
 */
export * from "./client/index.ts";
export * from "./protocol/index.ts";
