/**
 * Writing node homes: `init` (one validator's home) and `testnet` (the
 * homes of an N-validator network). Files only, no process and no network:
 * the CLI (@edgeledger/cli), the test harness and the benches call them.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  addressFromPublicKey,
  formatAddress,
  SecretKey,
  toHex,
  type UpgradeSchedule,
} from "@edgeledger/sdk/protocol";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { type GenesisFile, genesisToFile, parseGenesis } from "../chain/genesis.ts";
import { defaultConfig, paths } from "./config.ts";
import { ConfigError } from "./errors.ts";
import { writeKeyFile } from "./keyFile.ts";
import { createNodeKeyFile } from "./nodeKey.ts";

export interface InitOptions {
  home: string;
  chainId: string;
  /** Extra genesis accounts: address → balance. */
  fund?: { address: string; balance: bigint }[];
  apiPort?: number;
  /** The genesis's protocol upgrade schedule (docs/operations.md#upgrades); checked by the genesis parser. */
  upgrades?: UpgradeSchedule;
}

/** Creates a home: config.json (every default), a validator key (0600), and a one-validator genesis. */
export function init(opts: InitOptions): { home: string; validator: string } {
  const home = resolve(opts.home);
  const p = paths(home);
  if (existsSync(p.genesis) || existsSync(p.config)) {
    throw ConfigError.invalid(
      home,
      "(home)",
      "already holds a node",
      "choose another --home, or start this one",
    );
  }
  const key = SecretKey.generate();
  const genesis: GenesisFile = {
    chainId: opts.chainId,
    genesisTime: Date.now(),
    validators: [{ publicKey: toHex(key.publicKey), power: "1" }],
    accounts: (opts.fund ?? []).map((f) => ({ address: f.address, balance: f.balance.toString() })),
    ...upgradesOf(opts),
  };
  // Through the parser before anything is written, so an invalid chain id,
  // address or schedule fails here, not at start, and leaves no half a home.
  const genesisText = `${JSON.stringify(genesisToFile(parseGenesis(genesis, p.genesis)), null, 2)}\n`;
  const config = structuredClone(defaultConfig);
  if (opts.apiPort !== undefined) config.api.port = opts.apiPort;
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeKeyFile(p.validatorKey, key);
  writeFileSync(p.config, `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(p.genesis, genesisText);
  return { home, validator: formatAddress(addressFromPublicKey(key.publicKey)) };
}

export interface TestnetOptions {
  validators: number;
  /** Non-validating full nodes, after the validators (homes `full-<i>`). */
  fullNodes?: number;
  out: string;
  /** API ports are basePort + i, p2p ports basePort + 100 + i (validators first, then full nodes). */
  basePort: number;
  /** Funded genesis accounts: address → balance. */
  fund?: { address: string; balance: bigint }[];
  /** `count` more accounts derived from `seed` (64 hex), `balance` each: genesis.ts `derivedAccounts`. */
  derivedAccounts?: { seed: string; count: number; balance: bigint };
  host?: string;
  /** Default `testnet-<validators>`. */
  chainId?: string;
  /** The genesis's protocol upgrade schedule, as for `init`. */
  upgrades?: UpgradeSchedule;
}

export interface TestnetNode {
  home: string;
  apiUrl: string;
  /** The libp2p peer id (from the node key written into the home). */
  peerId: string;
  validator: boolean;
}

/**
 * Writes the homes of an N-validator network (plus optional full nodes): a
 * key and peer identity per node, one shared genesis naming the validators,
 * and configs that list every validator as a bootstrap peer. Edit `host` and
 * the ports for several hosts.
 */
export async function testnet(
  opts: TestnetOptions,
): Promise<{ homes: string[]; apiUrls: string[]; nodes: TestnetNode[]; chainId: string }> {
  const out = resolve(opts.out);
  const host = opts.host ?? "127.0.0.1";
  if (existsSync(out))
    throw ConfigError.invalid(out, "(out)", "already exists", "choose a new --out folder");
  try {
    return await writeTestnet(opts, out, host);
  } catch (e) {
    // `out` did not exist: a refused genesis (say, a bad upgrade schedule) leaves nothing behind.
    rmSync(out, { recursive: true, force: true });
    throw e;
  }
}

async function writeTestnet(
  opts: TestnetOptions,
  out: string,
  host: string,
): Promise<{ homes: string[]; apiUrls: string[]; nodes: TestnetNode[]; chainId: string }> {
  const count = opts.validators + (opts.fullNodes ?? 0);
  const nodes = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const validator = i < opts.validators;
      const home = join(out, validator ? `validator-${i}` : `full-${i - opts.validators}`);
      mkdirSync(home, { recursive: true, mode: 0o700 });
      // A full node has a key too (it is who `keys show` names), just not one in the genesis set.
      const key = SecretKey.generate();
      writeKeyFile(paths(home).validatorKey, key);
      const peerKey = await createNodeKeyFile(paths(home).nodeKey);
      return {
        home,
        key,
        validator,
        peerId: peerIdFromPrivateKey(peerKey).toString(),
        api: opts.basePort + i,
        p2p: opts.basePort + 100 + i,
      };
    }),
  );
  const validators = nodes.filter((n) => n.validator);
  const chainId = opts.chainId ?? `testnet-${validators.length}`;
  const genesis: GenesisFile = {
    chainId,
    genesisTime: Date.now(),
    validators: validators.map((n) => ({ publicKey: toHex(n.key.publicKey), power: "1" })),
    accounts: (opts.fund ?? []).map((f) => ({ address: f.address, balance: f.balance.toString() })),
    ...(opts.derivedAccounts && {
      derivedAccounts: {
        ...opts.derivedAccounts,
        balance: opts.derivedAccounts.balance.toString(),
      },
    }),
    ...upgradesOf(opts),
  };
  const genesisText = `${JSON.stringify(genesisToFile(parseGenesis(genesis, "genesis.json")), null, 2)}\n`;
  for (const n of nodes) {
    const config = structuredClone(defaultConfig);
    config.api = { ...config.api, host, port: n.api };
    config.network = {
      ...config.network,
      listen: [`/ip4/${host}/tcp/${n.p2p}`],
      bootstrap: validators
        .filter((o) => o !== n)
        .map((o) => `/ip4/${host}/tcp/${o.p2p}/p2p/${o.peerId}`),
    };
    writeFileSync(paths(n.home).config, `${JSON.stringify(config, null, 2)}\n`);
    writeFileSync(paths(n.home).genesis, genesisText);
  }
  const described = nodes.map((n) => ({
    home: n.home,
    apiUrl: `http://${host}:${n.api}`,
    peerId: n.peerId,
    validator: n.validator,
  }));
  return {
    chainId,
    nodes: described,
    homes: described.map((n) => n.home),
    apiUrls: described.map((n) => n.apiUrl),
  };
}

/** The genesis file's `upgrades` entry, absent when none are scheduled (a file as before versions). */
function upgradesOf(opts: { upgrades?: UpgradeSchedule }): Pick<GenesisFile, "upgrades"> {
  return opts.upgrades?.length ? { upgrades: opts.upgrades.map((u) => ({ ...u })) } : {};
}
