/**
 * The composition root: the only place that knows every subsystem. Builds
 * them in order (database → chain → mempool → signing guard → consensus →
 * API), starts them, and stops them in reverse.
 */
import { readFileSync } from "node:fs";
import { addressFromPublicKey, formatAddress, type SecretKey } from "@edgeledger/sdk/protocol";
import {
  createNativeVerifier,
  createVerifierPool,
  nativeSigner,
  useNativeSha256,
} from "@edgeledger/sdk/protocol/node";
import type { FastifyInstance } from "fastify";
import { type Logger, pino } from "pino";
import { createNodeService } from "./api/nodeService.ts";
import { createApiServer } from "./api/server.ts";
import { Chain } from "./chain/chain.ts";
import { parseGenesis } from "./chain/genesis.ts";
import { loadConfig, type NodeConfig, paths } from "./config/config.ts";
import { readKeyFile } from "./config/keyFile.ts";
import { ConsensusDriver } from "./consensus/driver.ts";
import { SigningGuard } from "./consensus/signingGuard.ts";
import { Database } from "./db/database.ts";
import { Mempool } from "./mempool/mempool.ts";
import { createMetrics } from "./metrics/metrics.ts";

export const NODE_VERSION = "0.1.0";

export interface NodeOverrides {
  /** Replaces config.json's API port (0 = any free port). */
  apiPort?: number;
  logger?: Logger;
  /** Dev chains only: serve POST /v1/dev/transfer, spending from this key. */
  devKey?: SecretKey;
}

export interface EdgeledgerNode {
  readonly config: NodeConfig;
  readonly chain: Chain;
  readonly mempool: Mempool;
  /** Resolves with the API's URL once everything runs. */
  start(): Promise<{ apiUrl: string }>;
  stop(): Promise<void>;
}

export function createNode(home: string, overrides: NodeOverrides = {}): EdgeledgerNode {
  useNativeSha256();
  const p = paths(home);
  const config = loadConfig(p.config);
  if (overrides.apiPort !== undefined) config.api.port = overrides.apiPort;
  const log =
    overrides.logger ?? pino({ level: config.log.level, base: { service: "edgeledger-node" } });
  const genesis = parseGenesis(JSON.parse(readFileSync(p.genesis, "utf8")), p.genesis);
  const key = readKeyFile(p.validatorKey);
  const isValidator = genesis.validators.some((v) =>
    Buffer.from(v.publicKey).equals(Buffer.from(key.publicKey)),
  );

  const db = new Database(p.data);
  const chain = new Chain(db, genesis);
  const metrics = createMetrics();
  const verifierPool = createVerifierPool();
  const mempool = new Mempool(config.mempool, {
    verifierPool,
    chainId: genesis.chainId,
    verifier: createNativeVerifier(),
    accounts: chain.accounts,
    isKnown: (hash) => db.getTx(hash) !== undefined,
    now: Date.now,
  });
  const guard = isValidator ? new SigningGuard(db, nativeSigner(key), genesis.chainId) : null;
  const driver = new ConsensusDriver(config.block, {
    chain,
    mempool,
    guard,
    log,
    now: Date.now,
    timeouts: config.consensus,
  });
  let api: FastifyInstance | null = null;
  const unsubscribers: (() => void)[] = [];

  return {
    config,
    chain,
    mempool,
    async start() {
      await db.open();
      await chain.init();
      metrics.height.set(chain.head.height);
      let lastBlockTime = chain.head.header.time;
      unsubscribers.push(
        chain.onHead((head) => {
          metrics.height.set(head.height);
          metrics.txsCommitted.inc(head.header.txCount);
          metrics.blockInterval.observe(Math.max(0, head.header.time - lastBlockTime) / 1000);
          lastBlockTime = head.header.time;
          metrics.mempoolSize.set(mempool.size);
          log.info({ height: head.height, txs: head.header.txCount }, "block committed");
        }),
        mempool.onDrop((e) => {
          metrics.mempoolDropped.inc({ code: e.code });
          void db.recordDropped([
            {
              hash: e.tx.hash,
              record: {
                status: "dropped",
                code: e.code,
                message: e.message,
                tx: Buffer.from(e.tx.bytes).toString("hex"),
              },
            },
          ]);
        }),
        mempool.onAdd(() => metrics.mempoolSize.set(mempool.size)),
      );
      const service = createNodeService({
        ...(overrides.devKey && { devKey: overrides.devKey }),
        chain,
        db,
        mempool,
        validatorKey: guard?.publicKey ?? null,
        version: NODE_VERSION,
      });
      const server = createApiServer(service, {
        logger: log,
        registry: metrics.registry,
        bodyLimit: config.api.bodyLimit,
      });
      api = server;
      const apiUrl = await server.listen({ host: config.api.host, port: config.api.port });
      driver.start();
      log.info(
        {
          apiUrl,
          height: chain.head.height,
          validator: guard ? formatAddress(addressFromPublicKey(key.publicKey)) : null,
        },
        "node started",
      );
      return { apiUrl };
    },
    async stop() {
      await api?.close();
      await driver.stop();
      for (const u of unsubscribers.splice(0)) u();
      await db.close();
      await verifierPool.close();
    },
  };
}
