#!/usr/bin/env node
/**
 * `edgeledger`: the operator's CLI (@edgeledger/cli). Parses arguments
 * (commander) and calls commands/; prints errors as `code: message` and
 * exits non-zero. It sits above @edgeledger/node, @edgeledger/edge and the
 * SDK, the only package that knows all three.
 */
import { resolve } from "node:path";
import { DEV_CHAIN_ID, paths, readKeyFile, writeKeyFile } from "@edgeledger/node";
import { init, testnet } from "@edgeledger/node/homes";
import {
  addressFromPublicKey,
  BaseError,
  formatAddress,
  SecretKey,
  toHex,
} from "@edgeledger/sdk/protocol";
import { Command, InvalidArgumentError } from "commander";
import { clientFor, status, transfer } from "./commands/client.ts";
import { dev } from "./commands/dev.ts";
import { type EdgeCommandOptions, edge } from "./commands/edge.ts";
import { start } from "./commands/start.ts";
import { watchLifeline } from "./dev/lifeline.ts";
import { DEV_DEFAULTS } from "./dev/network.ts";

// Started by `edgeledger dev`: stop when it goes, however it goes.
watchLifeline();

const program = new Command("edgeledger").description("edgeledger full node").showHelpAfterError();

const amount = (v: string) => {
  if (!/^[1-9][0-9]*$/.test(v)) throw new InvalidArgumentError("a positive whole number");
  return BigInt(v);
};
const count = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`a whole number, ${min}-${max}`);
  return n;
};
const url = (v: string, previous: string[] = []) => {
  if (!/^https?:\/\/[^/]/.test(v)) throw new InvalidArgumentError("an http(s) URL");
  return [...previous, v];
};
const hash32 = (v: string) => {
  if (!/^[0-9a-f]{64}$/.test(v)) throw new InvalidArgumentError("32 bytes of lowercase hex");
  return v;
};
const whole = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("a whole number");
  return n;
};
const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("a port, 0-65535");
  return n;
};

program
  .command("init")
  .description(
    "create a node home: config.json with every default, a validator key (0600), a genesis",
  )
  .requiredOption("--home <dir>", "the node's home folder")
  .requiredOption("--chain-id <id>", "chain id: a-z, 0-9, '-'")
  .option("--api-port <port>", "API port", port)
  .action((o: { home: string; chainId: string; apiPort?: number }) => {
    const r = init({
      home: o.home,
      chainId: o.chainId,
      ...(o.apiPort !== undefined && { apiPort: o.apiPort }),
    });
    console.log(
      `initialized ${r.home}\nvalidator ${r.validator}\nnext: edgeledger start --home ${o.home}`,
    );
  });

const keys = program.command("keys").description("manage Ed25519 keys");
keys
  .command("new")
  .description("make a key and write it to a file (mode 0600)")
  .requiredOption("--out <file>", "where to write the key")
  .action((o: { out: string }) => {
    const key = SecretKey.generate();
    writeKeyFile(resolve(o.out), key);
    console.log(
      `address ${formatAddress(addressFromPublicKey(key.publicKey))}\npublicKey ${toHex(key.publicKey)}\nwritten to ${o.out}`,
    );
  });
keys
  .command("show")
  .description("show the public key and address of a key file or of a node's validator key")
  .option("--home <dir>", "a node home")
  .option("--key <file>", "a key file")
  .action((o: { home?: string; key?: string }) => {
    const file = o.key ?? (o.home ? paths(resolve(o.home)).validatorKey : undefined);
    if (!file) throw new InvalidArgumentError("give --home or --key");
    const key = readKeyFile(file);
    console.log(
      `address ${formatAddress(addressFromPublicKey(key.publicKey))}\npublicKey ${toHex(key.publicKey)}`,
    );
  });

program
  .command("start")
  .description("run the node in --home until Ctrl-C")
  .requiredOption("--home <dir>", "the node's home folder")
  .option(
    "--dev-key <file>",
    `dev chains only (chain id "${DEV_CHAIN_ID}" or "${DEV_CHAIN_ID}-…"): serve POST /v1/dev/transfer, signing from this funded key`,
  )
  .action((o: { home: string; devKey?: string }) =>
    start(o.home, o.devKey !== undefined ? { devKeyFile: o.devKey } : {}),
  );

program
  .command("dev")
  .description(
    "run a local network of validators, each its own process, with a funded dev account (what `npm start` runs); continues it on the next run",
  )
  .option("--home <dir>", "where the network lives", ".edgeledger/dev")
  .option(
    "--validators <n>",
    `how many validators, when creating the network (default ${DEV_DEFAULTS.validators})`,
    count(1, 64),
  )
  .option(
    "--api-port <port>",
    `first API port, when creating the network: validator i serves port + i, p2p on port + 100 + i (default ${DEV_DEFAULTS.apiPort})`,
    port,
  )
  .action((o: { home: string; validators?: number; apiPort?: number }) =>
    dev({
      home: o.home,
      ...(o.validators !== undefined && { validators: o.validators }),
      ...(o.apiPort !== undefined && { apiPort: o.apiPort }),
    }),
  );

program
  .command("edge")
  .description(
    "run an edge worker in front of nodes: the node's read API with every answer verified before it is cached or served, submissions forwarded (see edge/README.md)",
  )
  .requiredOption(
    "--upstream <url...>",
    "node API URLs, tried in order with failover (several after one --upstream, or --upstream again)",
    url,
  )
  .requiredOption("--chain-id <id>", "the chain served")
  .requiredOption(
    "--genesis-hash <hex>",
    "the genesis hash to trust: from your own node or config, never from the upstreams",
    hash32,
  )
  .option("--host <ip>", "address to serve on", "127.0.0.1")
  .option("--port <port>", "port to serve on", port, 8600)
  .option("--rate-limit <n>", "requests per second per client; 0 for no limit", whole, 50)
  .option("--rate-limit-burst <n>", "requests a client may make at once", whole, 100)
  .option("--cache-mb <n>", "memory for cached answers, in MiB", whole, 64)
  .option(
    "--trust-proxy-headers",
    "key rate limits by cf-connecting-ip, then the last x-forwarded-for hop: only behind a proxy that sets them (clients could send them themselves); default: the connection's address",
    false,
  )
  // commander names the repeatable flag after `--upstream`; the rest are the command's options as they are.
  .action(({ upstream, ...o }: Omit<EdgeCommandOptions, "upstreams"> & { upstream: string[] }) =>
    edge({ ...o, upstreams: upstream }),
  );

program
  .command("testnet")
  .description("write the homes of an N-validator network (keys, peer ids, genesis, configs)")
  .requiredOption("--validators <n>", "how many validators", count(1, 64))
  .option("--full-nodes <n>", "how many non-validating full nodes besides", count(0, 64))
  .requiredOption("--out <dir>", "folder for the homes (must not exist)")
  .option("--base-port <port>", "API ports from here, p2p ports from here + 100", port, 9100)
  .option("--host <ip>", "address every node listens on and is dialed at", "127.0.0.1")
  .action(
    async (o: {
      validators: number;
      fullNodes?: number;
      out: string;
      basePort: number;
      host: string;
    }) => {
      const r = await testnet({
        validators: o.validators,
        ...(o.fullNodes !== undefined && { fullNodes: o.fullNodes }),
        out: o.out,
        basePort: o.basePort,
        host: o.host,
      });
      console.log(r.homes.map((h, i) => `${h}  API ${r.apiUrls[i]}`).join("\n"));
      console.log(`start each with: npm run edgeledger -- start --home <home>`);
    },
  );

const trustOptions = (c: Command) =>
  c
    .option("--url <url>", "a node API URL (with --chain-id and --genesis-hash, or --home)")
    .option("--chain-id <id>", "with --url: the chain to expect")
    .option(
      "--genesis-hash <hex>",
      "with --url: the genesis hash to verify answers against (from your own node, never the server)",
      hash32,
    );
interface TrustFlags {
  home?: string;
  url?: string;
  chainId?: string;
  genesisHash?: string;
}
const target = (o: TrustFlags) => ({
  ...(o.home !== undefined && { home: o.home }),
  ...(o.url !== undefined && { url: o.url }),
  ...(o.chainId !== undefined && { chainId: o.chainId }),
  ...(o.genesisHash !== undefined && { genesisHash: o.genesisHash }),
});

trustOptions(
  program
    .command("status")
    .description("print a node's status (the SDK's getStatus)")
    .option(
      "--home <dir>",
      "a node home, or a dev network's (its validator-0); the API address and the genesis are read from it",
    ),
).action(async (o: TrustFlags) => {
  console.log(JSON.stringify(await status(clientFor(target(o))), null, 2));
});

trustOptions(
  program
    .command("transfer")
    .description(
      "sign a transfer with a key file, submit it and wait until it is final (receipt verified by the SDK) or dropped",
    )
    .requiredOption("--key <file>", "the sender's key file")
    .requiredOption("--to <address>", "recipient (el1…)")
    .requiredOption("--amount <n>", "amount", amount)
    .option("--home <dir>", "a node home, or a dev network's (for its API address and genesis)"),
).action(async (o: TrustFlags & { key: string; to: string; amount: bigint }) => {
  const result = await transfer(clientFor(target(o)), o.key, o.to, o.amount);
  console.log(JSON.stringify(result, null, 2));
  if (result.status !== "committed") process.exitCode = 1;
});

try {
  await program.parseAsync();
} catch (err) {
  const e =
    err instanceof BaseError
      ? `${err.code}: ${err.shortMessage}`
      : err instanceof Error
        ? err.message
        : String(err);
  console.error(`edgeledger: ${e}`);
  process.exitCode = 1;
}
