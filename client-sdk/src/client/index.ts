/**
 * The client (viem's shape): the BaseClient type (clients/baseClient.ts),
 * createClient that builds one and binds the actions to it (decorators.ts),
 * the actions one per file, each with its verifier (actions/), the
 * transports (transports/) and the light client that verifies every
 * answer (verify/).
 */
export * from "./actions/getAccount.ts";
export * from "./actions/getBlock.ts";
export * from "./actions/getStatus.ts";
export * from "./actions/getTransaction.ts";
export * from "./actions/getValidators.ts";
export * from "./actions/sendTransaction.ts";
export * from "./actions/transfer.ts";
export * from "./actions/waitForFinality.ts";
export * from "./actions/watchHeads.ts";
export * from "./clients/baseClient.ts";
export * from "./clients/createClient.ts";
export * from "./decorators.ts";
export * from "./nonceManager.ts";
export * from "./transports/body.ts";
export * from "./transports/http.ts";
export * from "./transports/transport.ts";
export * from "./verify/genesis.ts";
export * from "./verify/lightClient.ts";
export {
  memoryTrustStore,
  type TrustAnchor,
  type TrustStore,
  webStorageTrustStore,
} from "./verify/trust.ts";
