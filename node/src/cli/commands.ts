/**
 * What each CLI command does, apart from argument parsing (main.ts):
 * creating a home, keys, starting a node, a dev chain, a transfer.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AccountJson, StatusJson, TransactionStatusJson } from "@edgeledger/sdk/api";
import {
  addressFromPublicKey,
  encodeSignedTransaction,
  formatAddress,
  localSigner,
  parseAddress,
  SecretKey,
  signTransaction,
  toHex,
} from "@edgeledger/sdk/protocol";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { type GenesisFile, genesisToFile, parseGenesis } from "../chain/genesis.ts";
import { defaultConfig, paths } from "../config/config.ts";
import { ConfigError } from "../config/errors.ts";
import { readKeyFile, writeKeyFile } from "../config/keyFile.ts";
import { createNodeKeyFile } from "../config/nodeKey.ts";
import { createNode } from "../node.ts";

export interface InitOptions {
  home: string;
  chainId: string;
  /** Extra genesis accounts: address → balance. */
  fund?: { address: string; balance: bigint }[];
  apiPort?: number;
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
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const key = SecretKey.generate();
  writeKeyFile(p.validatorKey, key);
  const config = structuredClone(defaultConfig);
  if (opts.apiPort !== undefined) config.api.port = opts.apiPort;
  writeFileSync(p.config, `${JSON.stringify(config, null, 2)}\n`);
  const genesis: GenesisFile = {
    chainId: opts.chainId,
    genesisTime: Date.now(),
    validators: [{ publicKey: toHex(key.publicKey), power: "1" }],
    accounts: (opts.fund ?? []).map((f) => ({ address: f.address, balance: f.balance.toString() })),
  };
  // Round-trip through the parser so an invalid chain id or address fails here, not at start.
  writeFileSync(
    p.genesis,
    `${JSON.stringify(genesisToFile(parseGenesis(genesis, p.genesis)), null, 2)}\n`,
  );
  return { home, validator: formatAddress(addressFromPublicKey(key.publicKey)) };
}

export const DEV_CHAIN_ID = "edgeledger-dev";
export const DEV_FUNDS = 1_000_000_000n;

/**
 * `npm start`: a dev chain in `home` (created on first run, continued after),
 * with a funded dev account whose key is kept in home/dev_account.json.
 */
export async function dev(homeArg: string, apiPort?: number): Promise<void> {
  const home = resolve(homeArg);
  const devKeyFile = join(home, "dev_account.json");
  if (!existsSync(paths(home).genesis)) {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const devKey = SecretKey.generate();
    writeKeyFile(devKeyFile, devKey);
    init({
      home,
      chainId: DEV_CHAIN_ID,
      fund: [
        { address: formatAddress(addressFromPublicKey(devKey.publicKey)), balance: DEV_FUNDS },
      ],
      ...(apiPort !== undefined && { apiPort }),
    });
  }
  const devKey = readKeyFile(devKeyFile);
  const node = createNode(home, { devKey, ...(apiPort !== undefined && { apiPort }) });
  const { apiUrl } = await node.start();
  const devAddress = formatAddress(addressFromPublicKey(devKey.publicKey));
  const someone = formatAddress(addressFromPublicKey(SecretKey.generate().publicKey));
  const account = await node.chain.accounts.getAccount(addressFromPublicKey(devKey.publicKey));
  const example = await signTransaction(
    {
      chainId: node.chain.chainId,
      from: devKey.publicKey,
      nonce: (account?.nonce ?? 0) + node.mempool.size,
      expiresAt: Date.now() + 50 * 60_000,
      body: { kind: "transfer", to: parseAddress(someone), amount: 25n },
    },
    localSigner(devKey),
  );
  const cli = "npm run edgeledger --";
  console.log(`
edgeledger dev chain "${node.chain.chainId}" at height ${node.chain.head.height}  (home: ${home})

  API          ${apiUrl}      (OpenAPI: ${apiUrl}/openapi.json, metrics: ${apiUrl}/metrics)
  dev account  ${devAddress}  (key: ${devKeyFile})

Move funds from the dev account (the node signs; dev chains only):

  curl -s -X POST ${apiUrl}/v1/dev/transfer -H 'content-type: application/json' \\
    -d '{"to":"${someone}","amount":"25"}'
  curl -s ${apiUrl}/v1/accounts/${someone}

Submit a transaction signed elsewhere (this one was signed just now by the dev key, valid 50 min):

  curl -s -X POST ${apiUrl}/v1/transactions -H 'content-type: application/json' \\
    -d '{"tx":"${toHex(encodeSignedTransaction(example))}"}'

or sign and send any transfer with the CLI:

  ${cli} transfer --home ${homeArg} --key ${devKeyFile} --to ${someone} --amount 1000

Ctrl-C stops the node; the next \`npm start\` continues this chain.
`);
  await untilSignal();
  await node.stop();
}

export async function start(home: string): Promise<void> {
  const node = createNode(resolve(home));
  const { apiUrl } = await node.start();
  console.log(
    `edgeledger node on chain "${node.chain.chainId}" at height ${node.chain.head.height}; API ${apiUrl}`,
  );
  await untilSignal();
  await node.stop();
}

function untilSignal(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** The API URL of the node in `home` (from its config). */
export function apiUrlOf(home: string): string {
  const config = JSON.parse(readFileSync(paths(resolve(home)).config, "utf8")) as {
    api?: { host?: string; port?: number };
  };
  return `http://${config.api?.host ?? defaultConfig.api.host}:${config.api?.port ?? defaultConfig.api.port}`;
}

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  const body = (await res.json()) as T & { code?: string; message?: string };
  if (!res.ok) throw new Error(`${body.code ?? res.status}: ${body.message ?? res.statusText}`);
  return body;
}

export function status(url: string): Promise<StatusJson> {
  return getJson<StatusJson>(`${url}/v1/status`);
}

/** Signs a transfer with `keyFile`, submits it and waits until it is committed or dropped. */
export async function transfer(
  url: string,
  keyFile: string,
  to: string,
  amount: bigint,
): Promise<TransactionStatusJson> {
  const key = readKeyFile(keyFile);
  const from = formatAddress(addressFromPublicKey(key.publicKey));
  const st = await status(url);
  const acct = await getJson<AccountJson>(`${url}/v1/accounts/${from}`).catch(() => null);
  const stx = await signTransaction(
    {
      chainId: st.chainId,
      from: key.publicKey,
      nonce: acct?.account?.nonce ?? 0,
      expiresAt: Date.now() + 10 * 60_000,
      body: { kind: "transfer", to: parseAddress(to), amount },
    },
    localSigner(key),
  );
  const { hash } = await getJson<{ hash: string }>(`${url}/v1/transactions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tx: toHex(encodeSignedTransaction(stx)) }),
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const s = await getJson<TransactionStatusJson>(`${url}/v1/transactions/${hash}`);
    if (s.status !== "pending") return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Transaction ${hash} still pending after 30 s.`);
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
  host?: string;
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
  const chainId = `testnet-${validators.length}`;
  const genesis: GenesisFile = {
    chainId,
    genesisTime: Date.now(),
    validators: validators.map((n) => ({ publicKey: toHex(n.key.publicKey), power: "1" })),
    accounts: (opts.fund ?? []).map((f) => ({ address: f.address, balance: f.balance.toString() })),
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
