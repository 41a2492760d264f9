/**
 * The SDK client (`createClient`) the commands that read a node use
 * (status, transfer, dev's banner): on a node's API, trusting the genesis
 * of a home on disk (or one given on the command line), never the server's
 * word for it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, defaultConfig, genesisState, parseGenesis, paths } from "@edgeledger/node";
import { type Client, createClient } from "@edgeledger/sdk";
import { toHex } from "@edgeledger/sdk/protocol";

/** Where to reach a node and what to trust: a home, or a URL with the chain's id and genesis hash. */
export interface ClientTarget {
  home?: string;
  url?: string;
  chainId?: string;
  genesisHash?: string;
}

/** The home whose config and genesis a command reads: itself, or a dev network's validator-0. */
function nodeHome(homeArg: string): string {
  const home = resolve(homeArg);
  const devValidator = join(home, "validator-0");
  return !existsSync(paths(home).config) && existsSync(paths(devValidator).config)
    ? devValidator
    : home;
}

/** The API URL of the node in `home` (from its config); for a dev network's home, its first validator's. */
export function apiUrlOf(homeArg: string): string {
  const home = nodeHome(homeArg);
  const config = JSON.parse(readFileSync(paths(home).config, "utf8")) as {
    api?: { host?: string; port?: number };
  };
  return `http://${config.api?.host ?? defaultConfig.api.host}:${config.api?.port ?? defaultConfig.api.port}`;
}

/** The chain id and genesis hash of the genesis in `home` (a node's, or a dev network's). */
export function trustOf(homeArg: string): { chainId: string; genesisHash: string } {
  const file = paths(nodeHome(homeArg)).genesis;
  const genesis = parseGenesis(JSON.parse(readFileSync(file, "utf8")), file);
  return { chainId: genesis.chainId, genesisHash: toHex(genesisState(genesis).hash) };
}

/** The API URL a command reaches: the one given, or the home's (default: the dev network's). */
export function urlOf(target: Pick<ClientTarget, "home" | "url">): string {
  return target.url ?? apiUrlOf(target.home ?? ".edgeledger/dev");
}

/**
 * An SDK client for `target`: the URL given, or the home's; the chain id and
 * genesis hash given, or the home's genesis. A URL with neither a home nor
 * both of them is refused: there would be nothing to verify answers against.
 */
export function clientFor(target: ClientTarget): Client {
  const url = urlOf(target);
  const fromHome =
    target.chainId !== undefined && target.genesisHash !== undefined
      ? null
      : target.home !== undefined || target.url === undefined
        ? trustOf(target.home ?? ".edgeledger/dev")
        : null;
  const chainId = target.chainId ?? fromHome?.chainId;
  const genesisHash = target.genesisHash ?? fromHome?.genesisHash;
  if (chainId === undefined || genesisHash === undefined) {
    throw ConfigError.invalid(
      "edgeledger",
      "--url",
      "names a server but not the chain to verify its answers against",
      "add --chain-id and --genesis-hash (from your own node's genesis, never the server's), or pass --home",
    );
  }
  return createClient({ url, chainId, trust: { genesisHash } });
}
