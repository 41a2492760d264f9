/**
 * @edgeledger/sdk: the protocol core and the wallet. The client
 * (transports, actions, light-client verification) arrives with issue 5.
 */
export * from "./protocol/index.ts";
export * from "./wallet/index.ts";
