/**
 * The dev network's home: created on first use with node's `testnet` (a
 * dev chain id, a funded dev account), continued as it is on later runs,
 * refused with what to do when it cannot be continued. Files only: running
 * it is cmds/dev/handler.ts.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  ConfigError,
  DEV_CHAIN_ID,
  isDevChainId,
  parseGenesis,
  paths,
  testnet,
  writeKeyFile,
} from "@edgeledger/node";
import { addressFromPublicKey, formatAddress, SecretKey } from "@edgeledger/sdk/protocol";
import { apiUrlOf } from "../util/client.ts";

export { DEV_CHAIN_ID, isDevChainId } from "@edgeledger/node";
export const DEV_FUNDS = 1_000_000_000n;
/** Where `edgeledger dev` keeps the dev account's key, in its home. */
export const DEV_KEY_FILE = "dev_account.json";
/** Names the running `edgeledger dev` of a home (see `claimHome`). */
export const DEV_PID_FILE = "dev.pid";
/** `edgeledger dev` when creating a network: validators, and the first API port (node 0's, the README's). */
export const DEV_DEFAULTS = { validators: 4, apiPort: 8545 } as const;
/**
 * The dev edge worker's port, from the first API port: below the p2p ports
 * (API + 100 + i) and above any API port (at most 64 validators), so it
 * never takes a validator's.
 */
export const DEV_EDGE_PORT_OFFSET = 99;

export interface DevOptions {
  home: string;
  /** Only when creating the network (default 4); on later runs it must match, if given. */
  validators?: number;
  /** API ports from here, p2p ports from here + 100 (default 8545); same rule. */
  apiPort?: number;
}

/** A dev network's home: a validator home per validator, and the dev account's key. */
export interface DevNetwork {
  home: string;
  chainId: string;
  devKeyFile: string;
  validators: { name: string; home: string; apiUrl: string }[];
  /** True when this call wrote it. */
  created: boolean;
}

/**
 * The dev network in `opts.home`: created on first use with the CLI's own
 * `testnet` (chain id DEV_CHAIN_ID, a funded dev account), opened as it is
 * on later runs. Refuses a home it cannot continue, saying what to do.
 */
export async function devNetwork(opts: DevOptions): Promise<DevNetwork> {
  const home = resolve(opts.home);
  const devKeyFile = join(home, DEV_KEY_FILE);
  const cannotContinue = (problem: string, fix: string) =>
    ConfigError.invalid(home, "(home)", problem, fix);
  const newHome = `remove it (rm -rf ${home}) to start a new dev network, or pass --home <another folder>`;
  if (existsSync(paths(home).genesis)) {
    throw cannotContinue(
      "holds a one-validator dev chain from an earlier edgeledger (genesis.json directly in the home), and `edgeledger dev` now runs a network of validators",
      newHome,
    );
  }
  if (existsSync(paths(join(home, "validator-0")).genesis)) {
    const validators: DevNetwork["validators"] = [];
    for (let i = 0; existsSync(paths(join(home, `validator-${i}`)).config); i++) {
      const vhome = join(home, `validator-${i}`);
      validators.push({ name: `validator-${i}`, home: vhome, apiUrl: apiUrlOf(vhome) });
    }
    const genesisFile = paths(join(home, "validator-0")).genesis;
    const genesis = parseGenesis(JSON.parse(readFileSync(genesisFile, "utf8")), genesisFile);
    if (!isDevChainId(genesis.chainId)) {
      throw cannotContinue(
        `holds a network of chain "${genesis.chainId}", not a dev chain`,
        "run its validators with `edgeledger start --home <validator home>`, or pass --home <another folder>",
      );
    }
    if (!existsSync(devKeyFile) || genesis.validators.length !== validators.length) {
      throw cannotContinue(
        `holds an incomplete dev network (${validators.length} validator homes for ${genesis.validators.length} genesis validators${existsSync(devKeyFile) ? "" : `, no ${DEV_KEY_FILE}`})`,
        newHome,
      );
    }
    const basePort = Number(new URL(validators[0]!.apiUrl).port);
    if (
      (opts.validators !== undefined && opts.validators !== validators.length) ||
      (opts.apiPort !== undefined && opts.apiPort !== basePort)
    ) {
      throw cannotContinue(
        `holds a dev network of ${validatorCount(validators.length)} with API ports from ${basePort}`,
        "run without --validators and --api-port to continue it, or pass --home <another folder> for a new one",
      );
    }
    return { home, chainId: genesis.chainId, devKeyFile, validators, created: false };
  }
  if (existsSync(home) && readdirSync(home).length > 0) {
    throw cannotContinue("is not empty and holds no dev network", "pass --home <a new folder>");
  }
  const count = opts.validators ?? DEV_DEFAULTS.validators;
  const basePort = opts.apiPort ?? DEV_DEFAULTS.apiPort;
  // Every validator's p2p port is its API port + 100.
  if (basePort < 1 || basePort + 100 + count - 1 > 65535) {
    throw ConfigError.invalid(
      "edgeledger dev",
      "--api-port",
      `${basePort} leaves no room for ${count} API ports and ${count} p2p ports (API port + 100)`,
      `choose a port from 1 to ${65535 - 100 - count + 1}`,
    );
  }
  // testnet() writes a folder that does not exist yet; an empty one is as good.
  if (existsSync(home)) rmdirSync(home);
  const devKey = SecretKey.generate();
  const written = await testnet({
    validators: count,
    out: home,
    basePort,
    chainId: DEV_CHAIN_ID,
    fund: [{ address: formatAddress(addressFromPublicKey(devKey.publicKey)), balance: DEV_FUNDS }],
  });
  // Written last: a dev key next to the validator homes marks a network written to the end.
  writeKeyFile(devKeyFile, devKey);
  return {
    home,
    chainId: written.chainId,
    devKeyFile,
    validators: written.nodes.map((n, i) => ({
      name: `validator-${i}`,
      home: n.home,
      apiUrl: n.apiUrl,
    })),
    created: true,
  };
}

export const validatorCount = (n: number) => `${n} validator${n === 1 ? "" : "s"}`;
