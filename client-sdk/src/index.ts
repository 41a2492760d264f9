/**
 * @edgeledger/sdk: the client (createClient and its actions, verified by a
 * light client), the wallet (keystores, signers) and the protocol they speak.
 * Subpaths: `/protocol` (the protocol alone, shared with node and edge),
 * `/wallet`, `/api` (routes and JSON shapes), `/protocol/node` (Node-only
 * fast paths).
 */
export * from "./client/index.ts";
export * from "./protocol/index.ts";
export * from "./wallet/index.ts";
