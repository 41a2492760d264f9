/**
 * A node's home folder and its config.json. Every setting has its default
 * here, in one place; `init` writes them all out so an operator sees each
 * one. Loading checks every key and names the file, the key and the fix.
 *
 *   home/config.json          settings (this file's NodeConfig)
 *   home/genesis.json         the chain's genesis (chain/genesis.ts)
 *   home/validator_key.json   this node's Ed25519 key, mode 0600 (none with a remote signer)
 *   home/node_key.json        its libp2p peer identity, mode 0600
 *   home/data/                LevelDB
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type BlockOptions, defaultBlockOptions } from "../consensus/driver.ts";
import { DEFAULT_TIMEOUTS, type TimeoutConfig } from "../consensus/engine.ts";
import { DEFAULT_NODE_CACHE_BYTES } from "../db/nodeCache.ts";
import { defaultPrunerOptions } from "../db/pruner.ts";
import { defaultMempoolOptions, type MempoolOptions } from "../mempool/mempool.ts";
import { ConfigError } from "./errors.ts";

export interface NodeConfig {
  api: { host: string; port: number; bodyLimit: number };
  /** Serve the explorer web app at /explorer on the API's address (api/explorer.ts). */
  explorer: boolean;
  mempool: MempoolOptions;
  block: BlockOptions;
  /** Consensus timeouts in ms: each step's base, and how much it grows per round. */
  consensus: TimeoutConfig;
  log: { level: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent" };
  /** libp2p: where to listen, whom to dial at start (multiaddrs with /p2p/<peer id>), how many connections. */
  network: { listen: string[]; bootstrap: string[]; maxConnections: number };
  /** Memory for state-tree nodes read from or written to LevelDB (db/nodeCache.ts), in MiB. */
  storage: { stateCacheMB: number };
  // -- upgrades (ops) --
  /**
   * The last height this node commits: after it, consensus stops (no
   * proposal, no vote), block sync goes no further, and GET /v1/health says
   * `halted` while reads are still served. 0: never. A coordinated upgrade
   * sets it on every validator (docs/operations.md#upgrades).
   */
  haltHeight: number;
  // -- remote signer (signer) --
  /**
   * A remote signer (`edgeledger signer`) holding the validator key: its
   * host:port and its connection public key (hex), the only one accepted.
   * Empty: the key is home/validator_key.json.
   */
  signer: { address: string; publicKey: string };
  /**
   * Pruning and bounded storage (db/pruner.ts). keepRecent: the state of
   * this many most recent heights is kept and proofs at older ones are
   * refused (STATE_PRUNED); 0 keeps every height (an archive node).
   * Default 1000: a client that pins a height (many reads at one height,
   * an edge's cached header) has minutes at our block rate, while disk stays
   * bounded by the churn of 1000 blocks (node/bench/storage.bench.ts).
   * retainBlocks: block bodies of this many most recent heights are kept,
   * older ones keep only header and certificate (light clients verify those);
   * 0 keeps every body, so the node can serve block sync from genesis.
   * compactGrowthPercent: compact LevelDB in the background once its files
   * exceed the smallest size of the files or of LevelDB's tables seen since
   * the last compaction (about the live data) by this many percent and by at least 512 KiB; 0 never. Default 50:
   * disk within ×1.5 of the live data, each live byte rewritten once per
   * half its size deleted (db/pruner.ts compactionDue; LevelDB's own
   * compactions left 4–20× the live data in the bench).
   * compactAfterNodes: compact after this many deleted state nodes too
   * (0: no such trigger).
   * retainHeaders: headers and certificates of this many most recent heights
   * are kept, older ones only where the validator set changes (what a
   * skipping light client needs from genesis); others answer HEADER_PRUNED.
   * 0 keeps every header (the default); else at least keepRecent and
   * retainBlocks, both non-zero. It bounds the whole disk (the bench).
   */
  pruning: {
    keepRecent: number;
    retainBlocks: number;
    compactAfterNodes: number;
    retainHeaders: number;
    compactGrowthPercent: number;
  };
  // -- state sync (statesync) --
  /**
   * State sync (statesync/, docs/operations.md#state-sync). enable: a node
   * whose database is empty takes the state of a recent snapshot from its
   * peers instead of replaying from genesis; it trusts the header at
   * trustHeight only if it hashes to trustHash (hex, from a node you
   * trust), and verifies the snapshot's header from there by certificates.
   * Or, instead of trustHeight/trustHash, rpcServers: HTTP APIs of nodes or
   * edges (at least rpcAgree, default 2) whose light-client verified header
   * at the snapshot height, from this node's genesis, must agree
   * (statesync/rpcTrust.ts).
   * snapshotInterval: take a snapshot every this many heights (0: none,
   * this node serves no state sync; CometBFT's default too); keep: how
   * many. Their state survives pruning until they rotate out, so about
   * keepRecent + snapshotInterval × keep heights of state stay on disk.
   */
  statesync: {
    enable: boolean;
    trustHeight: number;
    trustHash: string;
    rpcServers: string[];
    rpcAgree: number;
    snapshotInterval: number;
    keep: number;
  };
}

export const defaultConfig: NodeConfig = {
  api: { host: "127.0.0.1", port: 8545, bodyLimit: 64 * 1024 },
  // -- explorer --
  explorer: false,
  mempool: { ...defaultMempoolOptions },
  block: { ...defaultBlockOptions },
  consensus: { ...DEFAULT_TIMEOUTS },
  log: { level: "warn" },
  network: { listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [], maxConnections: 64 },
  storage: { stateCacheMB: DEFAULT_NODE_CACHE_BYTES / 2 ** 20 },
  // -- upgrades (ops) --
  haltHeight: 0,
  // -- remote signer (signer) --
  signer: { address: "", publicKey: "" },
  pruning: {
    keepRecent: 1000,
    retainBlocks: 0,
    compactAfterNodes: 0,
    retainHeaders: 0,
    compactGrowthPercent: defaultPrunerOptions.compactGrowthPercent,
  },
  // -- state sync (statesync) --
  statesync: {
    enable: false,
    trustHeight: 0,
    trustHash: "",
    rpcServers: [],
    rpcAgree: 2,
    snapshotInterval: 0,
    keep: 2,
  },
};

/** The configured halt height, or null when none (0). */
export function haltHeightOf(config: Pick<NodeConfig, "haltHeight">): number | null {
  return config.haltHeight > 0 ? config.haltHeight : null;
}

export const paths = (home: string) => ({
  config: join(home, "config.json"),
  genesis: join(home, "genesis.json"),
  validatorKey: join(home, "validator_key.json"),
  nodeKey: join(home, "node_key.json"),
  data: join(home, "data"),
});

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Reads config.json, filling absent keys with defaults and refusing unknown or ill-typed ones. */
export function loadConfig(file: string): NodeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(
      "CONFIG_MISSING",
      `${file} cannot be read as JSON: ${(err as Error).message}. Fix: run \`edgeledger init\` or repair the file.`,
      {
        details: { file },
      },
    );
  }
  const config = merge(defaultConfig, raw, file, "") as NodeConfig;
  checkSigner(config.signer, file);
  checkStateSync(config.statesync, file);
  checkPruning(config.pruning, file);
  return config;
}

/** Dropping headers needs their bodies and states gone first: a kept state or body needs its header. */
export function checkPruning(p: NodeConfig["pruning"], file: string): void {
  if (p.retainHeaders === 0) return;
  for (const key of ["keepRecent", "retainBlocks"] as const)
    if (p[key] === 0 || p[key] > p.retainHeaders)
      throw ConfigError.invalid(
        file,
        "pruning.retainHeaders",
        `must be at least pruning.${key}, which must be non-zero when retainHeaders is set`,
        `e.g. keepRecent ${p.keepRecent || 1000}, retainBlocks ${p.retainBlocks || p.keepRecent || 1000}, retainHeaders ${Math.max(p.keepRecent, p.retainBlocks, 1000)}`,
      );
}

/** Joining by state sync needs the trusted height and hash, or the servers a light client verifies it on. */
export function checkStateSync(s: NodeConfig["statesync"], file: string): void {
  if (!s.enable) return;
  if (s.rpcServers.length > 0) {
    if (s.trustHeight !== 0 || s.trustHash !== "")
      throw ConfigError.invalid(
        file,
        "statesync.rpcServers",
        "is the other form of trust than trustHeight/trustHash; not both",
        "remove trustHeight and trustHash, or rpcServers",
      );
    const bad = s.rpcServers.find((u) => !/^https?:\/\/[^\s/]+/.test(u));
    if (bad !== undefined)
      throw ConfigError.invalid(
        file,
        "statesync.rpcServers",
        `must be HTTP base URLs (${JSON.stringify(bad)} is not)`,
        'e.g. ["http://10.0.0.1:8545", "https://edge.example.com"]',
      );
    if (s.rpcAgree < 1 || s.rpcAgree > s.rpcServers.length)
      throw ConfigError.invalid(
        file,
        "statesync.rpcAgree",
        `must be between 1 and the number of rpcServers (${s.rpcServers.length})`,
        "list more servers, run by different operators, or lower rpcAgree",
      );
    return;
  }
  if (s.trustHeight < 1)
    throw ConfigError.invalid(
      file,
      "statesync.trustHeight",
      "must be a height of 1 or more when statesync.enable is set",
      "take a recent height from a node you trust",
    );
  if (!/^[0-9a-f]{64}$/.test(s.trustHash))
    throw ConfigError.invalid(
      file,
      "statesync.trustHash",
      "must be the block hash at trustHeight (64 hex characters)",
      "copy it from a node you trust",
    );
}

/** The remote signer's two keys go together: an address without a pinned key is refused. */
export function checkSigner(signer: NodeConfig["signer"], file: string): void {
  if (signer.address === "" && signer.publicKey === "") return;
  if (!/^[^\s:]+:\d{1,5}$/.test(signer.address))
    throw ConfigError.invalid(
      file,
      "signer.address",
      "must be host:port",
      'e.g. "127.0.0.1:26659"',
    );
  if (!/^[0-9a-f]{64}$/.test(signer.publicKey))
    throw ConfigError.invalid(
      file,
      "signer.publicKey",
      "must be the signer's connection key (64 hex characters)",
      "copy the connection key `edgeledger signer init` printed",
    );
}

function merge(defaults: unknown, value: unknown, file: string, path: string): unknown {
  if (value === undefined) return defaults;
  if (Array.isArray(defaults)) {
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      throw ConfigError.invalid(
        file,
        path,
        "must be a list of strings",
        `e.g. ${JSON.stringify(defaults)}`,
      );
    }
    return value;
  }
  if (typeof defaults === "object" && defaults !== null) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw ConfigError.invalid(
        file,
        path || "(root)",
        "must be an object",
        "see the defaults `edgeledger init` writes",
      );
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (!(key in defaults)) {
        throw ConfigError.invalid(
          file,
          path ? `${path}.${key}` : key,
          "is not a setting",
          `remove it (known: ${Object.keys(defaults).join(", ")})`,
        );
      }
    }
    for (const [key, d] of Object.entries(defaults)) {
      out[key] = merge(
        d,
        (value as Record<string, unknown>)[key],
        file,
        path ? `${path}.${key}` : key,
      );
    }
    return out;
  }
  if (typeof defaults === "boolean") {
    if (typeof value !== "boolean")
      throw ConfigError.invalid(file, path, "must be true or false", `e.g. ${defaults}`);
    return value;
  }
  if (typeof defaults === "number") {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw ConfigError.invalid(file, path, "must be a non-negative integer", `e.g. ${defaults}`);
    }
    if (path === "api.port" && value > 65535)
      throw ConfigError.invalid(file, path, "must be a port (0-65535)", "e.g. 8545");
    return value;
  }
  if (typeof value !== "string")
    throw ConfigError.invalid(file, path, "must be a string", `e.g. "${String(defaults)}"`);
  if (path === "log.level" && !LOG_LEVELS.includes(value)) {
    throw ConfigError.invalid(
      file,
      path,
      `must be one of ${LOG_LEVELS.join(", ")}`,
      '"warn" is quiet, "info" logs each block',
    );
  }
  return value;
}
