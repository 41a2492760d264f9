/**
 * @edgeledger/sdk/protocol: the one implementation of the edgeledger
 * protocol (DESIGN.md, shared decisions 1-6). Pure functions, no I/O, no Node
 * built-ins: types, canonical encoding, hashing, keys and addresses,
 * signature rule and backends, Merkle and state proofs, certificates and
 * header-chain verification. The node and the edge import it; nothing
 * re-implements it.
 */
export * from "../errors/index.ts";
export * from "./address.ts";
export * from "./block.ts";
export * from "./bytes.ts";
export * from "./codec/index.ts";
export * from "./consensusMessage.ts";
export * from "./evidence.ts";
export * from "./finalityCertificate.ts";
export * from "./hash.ts";
export * from "./headerChain.ts";
export * from "./keys.ts";
export * from "./limits.ts";
export * from "./merkle.ts";
export * from "./signatures/index.ts";
export * from "./state/index.ts";
export * from "./transaction.ts";
export * from "./txBatch.ts";
export * from "./upgrades.ts";
export * from "./validatorSet.ts";
export * from "./vote.ts";
