/**
 * @edgeledger/node as a library: build a node from a home (`createNode`),
 * write homes (`init`, `testnet`), and read what a home holds (config,
 * genesis, key files). Programs that run nodes (the `edgeledger` CLI in
 * @edgeledger/cli, the test harness) sit above it; nothing here parses
 * arguments or owns a process's lifetime.
 */
export {
  DEV_CHAIN_ID,
  type GenesisFile,
  genesisState,
  isDevChainId,
  parseGenesis,
} from "./chain/genesis.ts";
export { defaultConfig, loadConfig, type NodeConfig, paths } from "./config/config.ts";
export { ConfigError } from "./config/errors.ts";
export * from "./config/homes.ts";
export { readKeyFile, writeKeyFile } from "./config/keyFile.ts";
export { CompactError, type CompactResult, compactDatabase } from "./db/compact.ts";
export { createNode, type EdgeledgerNode, NODE_VERSION, type NodeOverrides } from "./node.ts";
export {
  connectionKeyOf,
  initSignerHome,
  loadSignerConfig,
  type SignerConfig,
  signerPaths,
  startSigner,
} from "./signer/home.ts";
export {
  exportSnapshot,
  importSnapshot,
  SnapshotFileError,
  type SnapshotFileResult,
} from "./statesync/file.ts";
