/**
 * The signer's home and what runs it (`edgeledger signer init|start`):
 *
 *   home/signer.json          { chainId, listen, allowedValidators, ratePerSecond }
 *   home/validator_key.json   the validator key, mode 0600 (moved here from the node's home)
 *   home/connection_key.json  the signer's connection key (Noise static key), mode 0600
 *   home/signing/             the signer's journal of what it signed (LevelDB, levelStore.ts)
 *
 * The validator pins the connection key's public half (its config's
 * signer.publicKey); the signer serves only the validators' connection keys
 * (their node keys' public halves) in allowedValidators.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nativeSigner } from "@edgeledger/sdk/protocol/node";
import { type Logger, pino } from "pino";
import { ConfigError } from "../config/errors.ts";
import { readKeyFile, writeKeyFile } from "../config/keyFile.ts";
import { createNodeKeyFile, loadNodeKey } from "../config/nodeKey.ts";
import { LocalSigningGuard } from "../consensus/signingGuard.ts";
import { LevelSigningStore } from "./levelStore.ts";
import { defaultSignerServerOptions, type RunningSigner, startSignerServer } from "./server.ts";
import { SignerService } from "./service.ts";
import { connectionKeyHex, peerIdOfKey } from "./transport.ts";

export interface SignerConfig {
  chainId: string;
  /** host:port; keep it on 127.0.0.1 or a private network. */
  listen: string;
  /** The validators' connection keys (hex) it serves: an active validator and its standby. */
  allowedValidators: string[];
  ratePerSecond: number;
}

export const signerPaths = (home: string) => ({
  config: join(home, "signer.json"),
  validatorKey: join(home, "validator_key.json"),
  connectionKey: join(home, "connection_key.json"),
  journal: join(home, "signing"),
});

/** Writes a signer home; returns the connection key's public half, for the validators' config. */
export async function initSignerHome(
  home: string,
  options: {
    chainId: string;
    listen: string;
    allowedValidators: string[];
    validatorKeyFile: string;
  },
): Promise<{ connectionKey: string }> {
  const p = signerPaths(home);
  if (existsSync(p.config))
    throw ConfigError.invalid(p.config, "(file)", "already exists", "choose an empty --home");
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeKeyFile(p.validatorKey, readKeyFile(options.validatorKeyFile));
  const key = await createNodeKeyFile(p.connectionKey);
  const config: SignerConfig = {
    chainId: options.chainId,
    listen: options.listen,
    allowedValidators: options.allowedValidators,
    ratePerSecond: defaultSignerServerOptions.ratePerSecond,
  };
  writeFileSync(p.config, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return { connectionKey: connectionKeyHex(key) };
}

export function loadSignerConfig(file: string): SignerConfig {
  let raw: Partial<SignerConfig>;
  try {
    raw = JSON.parse(readFileSync(file, "utf8")) as Partial<SignerConfig>;
  } catch {
    throw new ConfigError(
      "CONFIG_MISSING",
      `${file} cannot be read as JSON. Fix: run \`edgeledger signer init\`.`,
    );
  }
  const fix = "see the file `edgeledger signer init` writes";
  if (typeof raw.chainId !== "string")
    throw ConfigError.invalid(file, "chainId", "must be a string", fix);
  if (typeof raw.listen !== "string" || !/^[^\s:]+:\d{1,5}$/.test(raw.listen))
    throw ConfigError.invalid(file, "listen", "must be host:port", 'e.g. "127.0.0.1:26659"');
  if (
    !Array.isArray(raw.allowedValidators) ||
    raw.allowedValidators.some((k) => typeof k !== "string")
  )
    throw ConfigError.invalid(
      file,
      "allowedValidators",
      "must be a list of connection keys (hex)",
      fix,
    );
  const rate = raw.ratePerSecond ?? defaultSignerServerOptions.ratePerSecond;
  if (!Number.isSafeInteger(rate) || rate < 1)
    throw ConfigError.invalid(file, "ratePerSecond", "must be a positive integer", "e.g. 100");
  return {
    chainId: raw.chainId,
    listen: raw.listen,
    allowedValidators: raw.allowedValidators,
    ratePerSecond: rate,
  };
}

/**
 * Runs the signer of `home` until stopped; `listen` overrides signer.json's
 * (e.g. port 0 in tests). Logs JSON at EDGELEDGER_LOG_LEVEL (warn by default).
 */
export async function startSigner(
  home: string,
  overrides: { listen?: string; log?: Logger } = {},
): Promise<RunningSigner & { validator: Uint8Array }> {
  const log =
    overrides.log ??
    pino({
      level: process.env["EDGELEDGER_LOG_LEVEL"] ?? "warn",
      base: { service: "edgeledger-signer" },
    });
  const p = signerPaths(home);
  const config = loadSignerConfig(p.config);
  const key = readKeyFile(p.validatorKey);
  const connectionKey = await loadNodeKey(p.connectionKey);
  const allowedHex = config.allowedValidators;
  if (allowedHex.length === 0)
    throw ConfigError.invalid(
      p.config,
      "allowedValidators",
      "is empty: no validator could connect",
      "add the validator's connection key (`edgeledger signer connection-key --home <node home>`)",
    );
  const allowed = allowedHex.map((hex) =>
    peerIdOfKey(hex, { file: p.config, key: "allowedValidators" }),
  );
  const store = new LevelSigningStore(p.journal);
  await store.open();
  const guard = new LocalSigningGuard(store, nativeSigner(key), config.chainId);
  const service = new SignerService({ chainId: config.chainId, guard });
  const running = await startSignerServer(
    {
      ...defaultSignerServerOptions,
      listen: overrides.listen ?? config.listen,
      connectionKey,
      allowed,
      ratePerSecond: config.ratePerSecond,
    },
    service,
    log,
  );
  return {
    ...running,
    validator: key.publicKey,
    stop: async () => {
      await running.stop();
      await store.close();
    },
  };
}

/** A home's connection key (a node's node_key.json, or a signer's), as the hex the other side pins. */
export async function connectionKeyOf(file: string): Promise<string> {
  return connectionKeyHex(await loadNodeKey(file));
}
