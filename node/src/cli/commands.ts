/**
 * What each CLI command does, apart from argument parsing (main.ts):
 * creating a home, keys, starting a node, a local dev network, a transfer.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, relative, resolve } from "node:path";
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
import {
  DEV_CHAIN_ID,
  type GenesisFile,
  genesisState,
  genesisToFile,
  isDevChainId,
  parseGenesis,
} from "../chain/genesis.ts";
import { defaultConfig, paths } from "../config/config.ts";
import { ConfigError } from "../config/errors.ts";
import { readKeyFile, writeKeyFile } from "../config/keyFile.ts";
import { createNodeKeyFile } from "../config/nodeKey.ts";
import { createNode } from "../node.ts";
import { httpReady, LocalNetwork, type LocalProcessSpec } from "./localNetwork.ts";

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

// The dev-chain rule lives with the genesis; re-exported for users of @edgeledger/node/cli.
export { DEV_CHAIN_ID, isDevChainId } from "../chain/genesis.ts";
export const DEV_FUNDS = 1_000_000_000n;
/** Where `edgeledger dev` keeps the dev account's key, in its home. */
export const DEV_KEY_FILE = "dev_account.json";
/** Names the running `edgeledger dev` of a home (see `claimHome`). */
const DEV_PID_FILE = "dev.pid";
/** `edgeledger dev` when creating a network: validators, and the first API port (node 0's, the README's). */
export const DEV_DEFAULTS = { validators: 4, apiPort: 8545 } as const;
/**
 * The dev edge worker's port, from the first API port: below the p2p ports
 * (API + 100 + i) and above any API port (at most 64 validators), so it
 * never takes a validator's.
 */
export const DEV_EDGE_PORT_OFFSET = 99;

/** The CLI itself: `edgeledger dev` runs each validator as `node main.ts start`. */
const CLI = resolve(import.meta.dirname, "main.ts");

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

/**
 * `npm start`: a local dev network (see `devNetwork`), each validator a
 * child process serving the dev account's transfer route, until Ctrl-C.
 */
export async function dev(opts: DevOptions): Promise<void> {
  const net = await devNetwork(opts);
  const validators: LocalProcessSpec[] = net.validators.map((v) => ({
    name: v.name,
    url: v.apiUrl,
    command: process.execPath,
    args: [CLI, "start", "--home", v.home, "--dev-key", net.devKeyFile],
    logFile: join(v.home, "node.log"),
    ready: httpReady(`${v.apiUrl}/v1/status`),
  }));
  const processes = [...validators, devEdge(net)];
  const release = claimHome(net.home);
  try {
    console.log(
      `${net.created ? "created" : "continuing"} the dev network in ${net.home}; starting ${validatorCount(validators.length)} and an edge worker…`,
    );
    await LocalNetwork.run(processes, {
      onReady: async (local) => console.log(await devBanner(net, local.processes, opts.home)),
    });
    console.log("stopped every validator and the edge worker");
  } finally {
    release();
  }
}

/**
 * The dev network's edge worker (`edgeledger edge`) in front of every
 * validator, trusting the genesis written on disk (never a node's word).
 * Ready once it serves a verified status.
 */
function devEdge(net: DevNetwork): LocalProcessSpec {
  const first = new URL(net.validators[0]!.apiUrl);
  const url = `http://${first.hostname}:${Number(first.port) + DEV_EDGE_PORT_OFFSET}`;
  return {
    name: "edge",
    url,
    command: process.execPath,
    args: [
      CLI,
      "edge",
      ...net.validators.flatMap((v) => ["--upstream", v.apiUrl]),
      "--chain-id",
      net.chainId,
      "--genesis-hash",
      genesisHashIn(net.validators[0]!.home),
      "--host",
      first.hostname,
      "--port",
      String(Number(first.port) + DEV_EDGE_PORT_OFFSET),
    ],
    logFile: join(net.home, "edge.log"),
    ready: httpReady(`${url}/v1/status`),
  };
}

/** The hash of the genesis in a node home, from its genesis.json. */
function genesisHashIn(home: string): string {
  const file = paths(home).genesis;
  return toHex(genesisState(parseGenesis(JSON.parse(readFileSync(file, "utf8")), file)).hash);
}

export interface EdgeCommandOptions {
  upstreams: string[];
  chainId: string;
  genesisHash: string;
  host: string;
  port: number;
  /** Per client per second; 0: no limit. */
  rateLimit: number;
  rateLimitBurst: number;
  cacheMb: number;
  /** True: rate limits key by cf-connecting-ip / x-forwarded-for, set by a proxy in front. */
  trustProxyHeaders: boolean;
}

/**
 * `edgeledger edge`: an edge worker (@edgeledger/edge on Node) in front of
 * `upstreams` until SIGINT or SIGTERM: verified, cached reads of the node
 * API and forwarded submissions.
 */
export async function edge(opts: EdgeCommandOptions): Promise<void> {
  // Loaded here: the other commands need none of the edge.
  const { memoryCache } = await import("@edgeledger/edge");
  const { startEdgeServer } = await import("@edgeledger/edge/node");
  const server = await startEdgeServer({
    upstreams: opts.upstreams,
    chainId: opts.chainId,
    trust: { genesisHash: opts.genesisHash },
    hostname: opts.host,
    port: opts.port,
    cache: memoryCache({ maxBytes: opts.cacheMb * 1024 * 1024 }),
    rateLimit:
      opts.rateLimit === 0
        ? false
        : {
            ratePerSecond: opts.rateLimit,
            burst: Math.max(1, opts.rateLimitBurst),
            trustProxyHeaders: opts.trustProxyHeaders,
          },
  });
  console.log(
    `edgeledger edge (pid ${process.pid}) for chain "${opts.chainId}" on ${server.url}, in front of ${opts.upstreams.join(", ")}`,
  );
  // Said at start-up, so that an operator behind a proxy sees whether clients are told apart.
  console.log(
    server.app.edge.rateLimitKey === null
      ? "rate limit: none"
      : `rate limit: ${opts.rateLimit}/s, burst ${Math.max(1, opts.rateLimitBurst)}, per client by ${server.app.edge.rateLimitKey}`,
  );
  await untilSignal();
  await server.close();
  console.log(`edgeledger edge (pid ${process.pid}) stopped`);
}

/**
 * One `edgeledger dev` per home: a second one would empty the running
 * validators' logs and then fail on their locked databases. The claim is a
 * pid file; one left by a launcher that was killed names a dead process and
 * is taken over.
 */
function claimHome(home: string): () => void {
  const file = join(home, DEV_PID_FILE);
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const pid = Number(readFileSync(file, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw ConfigError.invalid(
        home,
        "(home)",
        `is in use by another edgeledger dev (pid ${pid})`,
        `stop that one first (Ctrl-C in its terminal, or kill -INT ${pid}), or pass --home <another folder>`,
      );
    }
    rmSync(file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The quick start's defaults are `npm start`'s; anything else goes in its environment. */
function quickstartEnv(home: string, apiUrl: string): string {
  const env = [
    ...(home === resolve(".edgeledger/dev") ? [] : [`EDGELEDGER_HOME=${home}`]),
    ...(apiUrl === "http://127.0.0.1:8545" ? [] : [`EDGELEDGER_URL=${apiUrl}`]),
  ];
  return env.map((e) => `${e} `).join("");
}

const validatorCount = (n: number) => `${n} validator${n === 1 ? "" : "s"}`;

/** What `edgeledger dev` prints once everything answers: where things are, and commands to try. */
async function devBanner(
  net: DevNetwork,
  processes: readonly LocalProcessSpec[],
  homeArg: string,
): Promise<string> {
  const apiUrl = net.validators[0]!.apiUrl;
  const otherUrl = net.validators[1]?.apiUrl ?? apiUrl;
  const edgeUrl = processes.find((p) => p.name === "edge")?.url;
  const st = await status(apiUrl);
  const devKey = readKeyFile(net.devKeyFile);
  const devAddress = formatAddress(addressFromPublicKey(devKey.publicKey));
  // Accounts are served with a proof against a certified header: none before block 1.
  const account =
    st.height > 0 ? await getJson<AccountJson>(`${apiUrl}/v1/accounts/${devAddress}`) : null;
  const someone = formatAddress(addressFromPublicKey(SecretKey.generate().publicKey));
  const example = await signTransaction(
    {
      chainId: st.chainId,
      from: devKey.publicKey,
      nonce: (account?.account?.nonce ?? 0) + st.mempool.size,
      expiresAt: Date.now() + 50 * 60_000,
      body: { kind: "transfer", to: parseAddress(someone), amount: 25n },
    },
    localSigner(devKey),
  );
  // One row per process, whatever it runs (validators today, an edge worker next).
  const width = Math.max("dev account".length, ...processes.map((p) => p.name.length));
  const note = (p: LocalProcessSpec, i: number) =>
    i === 0
      ? "  ← use this one"
      : p.name === "edge"
        ? "  ← the same API: verified, cached reads; writes forwarded"
        : "";
  const rows = processes.map(
    (p, i) =>
      `  ${p.name.padEnd(width)}  ${p.url}  log: ${relative(net.home, p.logFile)}${note(p, i)}`,
  );
  const cli = "npm run edgeledger --";
  return `
edgeledger dev network: chain "${st.chainId}" at height ${st.height}, ${validatorCount(net.validators.length)}, each in its own process
(home: ${net.home}; logs are relative to it)

${rows.join("\n")}
  ${"dev account".padEnd(width)}  ${devAddress}  (key: ${net.devKeyFile})
  ${"genesis".padEnd(width)}  ${st.genesisHash}  (what SDK clients pin: trust: { genesisHash })

  OpenAPI: ${apiUrl}/openapi.json, metrics: ${apiUrl}/metrics (every validator serves both)

Move funds from the dev account (the node signs; dev chains only), then read
them back from any validator once the block is final:

  curl -s -X POST ${apiUrl}/v1/dev/transfer -H 'content-type: application/json' \\
    -d '{"to":"${someone}","amount":"25"}'
  curl -s ${otherUrl}/v1/accounts/${someone}

Submit a transaction signed elsewhere (this one was signed just now by the dev key, valid 50 min):

  curl -s -X POST ${apiUrl}/v1/transactions -H 'content-type: application/json' \\
    -d '{"tx":"${toHex(encodeSignedTransaction(example))}"}'

or sign and send any transfer with the CLI:

  ${cli} transfer --home ${homeArg} --key ${net.devKeyFile} --to ${someone} --amount 1000

Or from code, with the SDK verifying every answer (client-sdk/README.md):

  ${quickstartEnv(net.home, apiUrl)}GENESIS_HASH=${st.genesisHash} npm run quickstart
${
  edgeUrl
    ? `
or through the edge worker, which verifies before it caches (and the SDK verifies it again):

  ${quickstartEnv(net.home, edgeUrl)}GENESIS_HASH=${st.genesisHash} npm run quickstart
`
    : ""
}
Ctrl-C stops every validator and the edge; the next \`npm start\` continues this chain.
`;
}

/**
 * `edgeledger start`: one node until SIGINT or SIGTERM. With `devKeyFile`
 * (dev chains only, see `isDevChainId`) it also serves POST /v1/dev/transfer.
 */
export async function start(home: string, opts: { devKeyFile?: string } = {}): Promise<void> {
  const devKey = opts.devKeyFile !== undefined ? readKeyFile(resolve(opts.devKeyFile)) : undefined;
  const node = createNode(resolve(home), devKey ? { devKey } : {});
  const { apiUrl } = await node.start();
  const devNote = devKey
    ? `; dev account ${formatAddress(addressFromPublicKey(devKey.publicKey))} on POST ${apiUrl}/v1/dev/transfer`
    : "";
  // The pid lets whoever reads a log (`edgeledger dev` writes one per validator) find the process.
  console.log(
    `edgeledger node (pid ${process.pid}) on chain "${node.chain.chainId}" at height ${node.chain.head.height}; API ${apiUrl}${devNote}`,
  );
  await untilSignal();
  await node.stop();
  console.log(`edgeledger node (pid ${process.pid}) stopped at height ${node.chain.head.height}`);
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

/** The API URL of the node in `home` (from its config); for a dev network's home, its first validator's. */
export function apiUrlOf(homeArg: string): string {
  const home = resolve(homeArg);
  const devValidator = join(home, "validator-0");
  if (!existsSync(paths(home).config) && existsSync(paths(devValidator).config))
    return apiUrlOf(devValidator);
  const config = JSON.parse(readFileSync(paths(home).config, "utf8")) as {
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
  /** Default `testnet-<validators>`. */
  chainId?: string;
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
  const chainId = opts.chainId ?? `testnet-${validators.length}`;
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
