/**
 * @edgeledger/sdk. For now the protocol core; the client (transports,
 * actions, light-client verification, wallet) arrives with issue 5.
 */
export * from "./protocol/index.ts";
