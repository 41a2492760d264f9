/**
 * What a node reads before it builds anything: its home's config (with the
 * command line's overrides), logger, genesis and validator key. Refuses a
 * dev account on a chain that is not a dev chain.
 */
import { existsSync, readFileSync } from "node:fs";
import type { SecretKey } from "@edgeledger/sdk/protocol";
import { type Logger, pino } from "pino";
import { DEV_CHAIN_ID, type Genesis, isDevChainId, parseGenesis } from "../chain/genesis.ts";
import { checkSigner, loadConfig, type NodeConfig, paths } from "./config.ts";
import { ConfigError } from "./errors.ts";
import { readKeyFile } from "./keyFile.ts";

export interface SetupOverrides {
  /** Replaces config.json's API port (0 = any free port). */
  readonly apiPort?: number;
  readonly logger?: Logger;
  /** Dev chains only: the key of the account POST /v1/dev/transfer spends from. */
  readonly devKey?: SecretKey;
  /** Replaces config.json's haltHeight for this run (`--halt-height`; 0 = none). */
  readonly haltHeight?: number;
  /** Replaces config.json's remote signer (`edgeledger start --signer-address --signer-public-key`). */
  readonly signer?: NodeConfig["signer"];
  /** Serves the explorer at /explorer whatever config.json says (`edgeledger start --explorer`). */
  readonly explorer?: boolean;
}

export interface NodeSetup {
  readonly paths: ReturnType<typeof paths>;
  readonly config: NodeConfig;
  readonly log: Logger;
  readonly genesis: Genesis;
  /** The validator key (every node has one; it signs only while in the set); null: a remote signer holds it. */
  readonly key: SecretKey | null;
}

export function loadNodeSetup(home: string, overrides: SetupOverrides): NodeSetup {
  const p = paths(home);
  const config = loadConfig(p.config);
  if (overrides.apiPort !== undefined) config.api.port = overrides.apiPort;
  if (overrides.haltHeight !== undefined) config.haltHeight = overrides.haltHeight;
  if (overrides.explorer) config.explorer = true;
  if (overrides.signer) {
    checkSigner(overrides.signer, "the command line");
    config.signer = overrides.signer;
  }
  // EDGELEDGER_LOG_LEVEL overrides config.json for one run (e.g. debug while investigating).
  const level = process.env["EDGELEDGER_LOG_LEVEL"] ?? config.log.level;
  const log = overrides.logger ?? pino({ level, base: { service: "edgeledger-node" } });
  const genesis = parseGenesis(JSON.parse(readFileSync(p.genesis, "utf8")), p.genesis);
  if (overrides.devKey && !isDevChainId(genesis.chainId)) {
    throw ConfigError.invalid(
      p.genesis,
      "chainId",
      `is "${genesis.chainId}", not a dev chain, so a dev account (--dev-key) is refused`,
      `start without --dev-key; a node signs for a dev account only on chains named "${DEV_CHAIN_ID}" or "${DEV_CHAIN_ID}-…"`,
    );
  }
  return { paths: p, config, log, genesis, key: validatorKey(p.validatorKey, config) };
}

/** With a remote signer the home holds no key, and one found there is refused: never a fallback. */
function validatorKey(file: string, config: NodeConfig): SecretKey | null {
  if (config.signer.address === "") return readKeyFile(file);
  if (existsSync(file))
    throw ConfigError.invalid(
      file,
      "(file)",
      "exists, but config.json names a remote signer (signer.address)",
      "move the key to the signer's home (`edgeledger signer init --validator-key`) and delete it here",
    );
  return null;
}
