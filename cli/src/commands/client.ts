/**
 * `edgeledger status` and `edgeledger transfer`: an SDK client
 * (`createClient`) on a node's API, trusting the genesis of a home on disk
 * (or one given on the command line), never the server's word for it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  ConfigError,
  defaultConfig,
  genesisState,
  parseGenesis,
  paths,
  readKeyFile,
} from "@edgeledger/node";
import { type Client, createClient, localSigner } from "@edgeledger/sdk";
import type { StatusJson } from "@edgeledger/sdk/api";
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

/**
 * An SDK client for `target`: the URL given, or the home's; the chain id and
 * genesis hash given, or the home's genesis. A URL with neither a home nor
 * both of them is refused: there would be nothing to verify answers against.
 */
export function clientFor(target: ClientTarget): Client {
  const url = target.url ?? apiUrlOf(target.home ?? ".edgeledger/dev");
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

/** The server's status (the SDK's getStatus: informational, nothing in it is verified). */
export function status(client: Client): Promise<StatusJson> {
  return client.getStatus();
}

export type TransferOutcome =
  | { hash: string; status: "committed"; height: number; index: number; blockHash: string }
  | { hash: string; status: "dropped"; error: { code: string; message: string } };

/**
 * Signs a transfer with `keyFile` (nonce from the verified account), submits
 * it and waits until it is final (its receipt verified) or dropped.
 */
export async function transfer(
  client: Client,
  keyFile: string,
  to: string,
  amount: bigint,
): Promise<TransferOutcome> {
  const signer = localSigner(readKeyFile(keyFile));
  const sent = await client.transfer({ signer, to, amount });
  try {
    const receipt = await sent.wait({ timeoutMs: 30_000 });
    return {
      hash: sent.hash,
      status: "committed",
      height: receipt.height,
      index: receipt.index,
      blockHash: toHex(receipt.certificate.blockHash),
    };
  } catch (err) {
    const dropped = await client.getTransaction({ hash: sent.hash }).catch(() => null);
    if (dropped?.status === "dropped")
      return { hash: sent.hash, status: "dropped", error: dropped.error };
    throw err;
  }
}
