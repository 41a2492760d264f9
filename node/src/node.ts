/**
 * The composition root: the only place that knows every subsystem. Builds
 * them in order (database → chain → mempool → signing guard → consensus →
 * API), starts them, and stops them in reverse.
 */
import { readFileSync } from "node:fs";
import {
  addressFromPublicKey,
  type ConsensusMessage,
  type DuplicateVoteEvidence,
  encodeConsensusMessage,
  encodeEvidence,
  equalBytes,
  formatAddress,
  type SecretKey,
  toHex,
} from "@edgeledger/sdk/protocol";
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
import { blockSignatureCheck, cachingVerifier } from "./chain/blockSignatures.ts";
import { Chain } from "./chain/chain.ts";
import { DEV_CHAIN_ID, isDevChainId, parseGenesis } from "./chain/genesis.ts";
import { VerifiedSignatures } from "./chain/verifiedSignatures.ts";
import { loadConfig, type NodeConfig, paths } from "./config/config.ts";
import { ConfigError } from "./config/errors.ts";
import { readKeyFile } from "./config/keyFile.ts";
import { loadNodeKey } from "./config/nodeKey.ts";
import { ConsensusDriver } from "./consensus/driver.ts";
import { validateConsensusMessage } from "./consensus/gossip.ts";
import { SigningGuard } from "./consensus/signingGuard.ts";
import { Database } from "./db/database.ts";
import { validateEvidenceMessage } from "./evidence/gossip.ts";
import { EvidencePool } from "./evidence/pool.ts";
import type { NodeHooks, PublishConsensus } from "./hooks.ts";
import { Mempool } from "./mempool/mempool.ts";
import { createMetrics } from "./metrics/metrics.ts";
import { bindTopic, topicName } from "./network/gossip.ts";
import { createHost, dialBootstrap, type Host } from "./network/host.ts";
import { PENALTY } from "./network/peerScore.ts";
import { startTxGossip } from "./network/txGossip.ts";
import { BlockSync } from "./sync/blockSync.ts";
import { MEMPOOL_PULL_LIMIT } from "./sync/mempoolPull.ts";

export const NODE_VERSION = "0.1.0";

export interface NodeOverrides {
  /** Replaces config.json's API port (0 = any free port). */
  apiPort?: number;
  logger?: Logger;
  /**
   * Dev chains only (`isDevChainId`; refused with a ConfigError elsewhere):
   * serve POST /v1/dev/transfer, spending from this key.
   */
  devKey?: SecretKey;
  /** Seams for other builds (hooks.ts); the test-only build's faults come through them. */
  hooks?: NodeHooks;
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
  // EDGELEDGER_LOG_LEVEL overrides config.json for one run (e.g. debug while investigating).
  const level = process.env["EDGELEDGER_LOG_LEVEL"] ?? config.log.level;
  const log = overrides.logger ?? pino({ level, base: { service: "edgeledger-node" } });
  const genesis = parseGenesis(JSON.parse(readFileSync(p.genesis, "utf8")), p.genesis);
  if (overrides.devKey && !isDevChainId(genesis.chainId)) {
    throw ConfigError.invalid(
      p.genesis,
      "chainId",
      `is "${genesis.chainId}", not a dev chain, so a dev account (--dev-key) is refused`,
      `start without --dev-key; a node signs for a dev account only on chains named "${DEV_CHAIN_ID}" or "${DEV_CHAIN_ID}-…"`,
    );
  }
  const key = readKeyFile(p.validatorKey);

  const db = new Database(p.data);
  const chain = new Chain(db, genesis);
  const metrics = createMetrics();
  const verifierPool = createVerifierPool();
  const verified = new VerifiedSignatures();
  const mempool = new Mempool(config.mempool, {
    verifierPool,
    verified,
    chainId: genesis.chainId,
    verifier: createNativeVerifier(),
    accounts: chain.accounts,
    isKnown: (hash) => db.getTx(hash) !== undefined,
    now: Date.now,
    nextValidators: () => chain.validatorsAt(chain.head.height + 1),
  });
  // Every node has a key and a guard: it signs only at heights whose set holds its key
  // (genesis, or voted in later), so a full node can become a validator without a restart.
  const hooks = overrides.hooks ?? {};
  const signer = nativeSigner(key);
  const guard = new SigningGuard(
    db,
    hooks.signer?.(signer, genesis.chainId) ?? signer,
    genesis.chainId,
  );
  const chainId = genesis.chainId;
  const evidencePool = new EvidencePool();
  // One memory of verified signatures, keyed by the exact signed bytes, shared
  // by admission, gossip validation and block checks (chain/verifiedSignatures.ts).
  const verifier = cachingVerifier(createNativeVerifier(), verified);
  const verifyBlockSignatures = blockSignatureCheck({
    chainId,
    verifierPool,
    verifier,
    verified,
    validatorsAt: (height) => chain.validatorsAt(height),
  });
  const txTopic = topicName(chainId, "txs");
  const consensusTopic = topicName(chainId, "consensus");
  const evidenceTopic = topicName(chainId, "evidence");
  let host: Host | null = null;
  let sync: BlockSync | null = null;
  let syncTimer: ReturnType<typeof setInterval> | null = null;
  let expiryTimer: ReturnType<typeof setInterval> | null = null;
  const publish = (topic: string, data: Uint8Array) => {
    host?.services.pubsub
      .publish(topic, data)
      .catch((err: unknown) => log.debug({ err, topic }, "publish failed"));
  };
  const publishConsensus: PublishConsensus = (m) =>
    publish(consensusTopic, encodeConsensusMessage(m));
  const broadcastConsensus = hooks.broadcast?.(publishConsensus) ?? publishConsensus;
  const driver = new ConsensusDriver(config.block, {
    broadcast: {
      proposal: (proposal, block, polVotes) =>
        broadcastConsensus({ kind: "proposal", proposal, block, polVotes }),
      vote: (vote) => broadcastConsensus({ kind: "vote", vote }),
    },
    ...(hooks.proposer && { proposer: hooks.proposer }),
    verifyBlockSignatures,
    evidence: {
      pending: () => evidencePool.pending(),
      found: (e) => {
        if (evidencePool.add(e)) publish(evidenceTopic, encodeEvidence(e));
      },
      unrecordable: (items) => evidencePool.remove(items),
    },
    chain,
    mempool,
    guard,
    log,
    now: Date.now,
    timeouts: config.consensus,
  });
  const consensusGossip = {
    chainId,
    verifier,
    headHeight: () => chain.head.height,
    validatorsAt: (height: number) => chain.validatorsAt(height),
    behind: () => sync?.trigger(),
  };
  const evidenceGossip = {
    chainId,
    verifier,
    headHeight: () => chain.head.height,
    validatorsAt: (height: number) => chain.validatorsAt(height),
    pending: (e: DuplicateVoteEvidence) => evidencePool.has(e),
    recorded: (key: Uint8Array) => chain.accounts.getValue(key),
  };
  let api: FastifyInstance | null = null;
  const unsubscribers: (() => void)[] = [];

  const startAll = async (): Promise<{ apiUrl: string }> => {
    await db.open();
    await chain.init();
    const net = await createHost(
      await loadNodeKey(p.nodeKey),
      chainId,
      config.network,
      hooks.gater,
    );
    host = net;
    hooks.started?.(net);
    const blockSync = new BlockSync({
      host: net,
      chain,
      db,
      verifier,
      log,
      verifyBlockSignatures,
      messagesFor: (height) => {
        const messages = driver.messagesFor(height);
        return hooks.catchUpReply?.(messages) ?? messages;
      },
      acceptConsensus: (data) => {
        const { verdict, value } = validateConsensusMessage(data, consensusGossip);
        if (verdict === "accept" && value) driver.receive(value, data.length);
        return verdict !== "reject";
      },
      // Stream faults cost the peer like invalid gossip (network/peerScore.ts): a stall a little.
      misbehaved: (peer, code) =>
        net.services.peerScore.penalize(
          peer,
          code,
          code === "SYNC_TIMEOUT" ? PENALTY.minor : PENALTY.invalid,
        ),
      pendingTxs: () => mempool.oldest(MEMPOOL_PULL_LIMIT).map((entry) => entry.bytes),
      // Refusals are expected here (most are duplicates, refused before any signature
      // check); nothing to punish or report. The rest are checked together on the workers.
      acceptTxs: async (txs) => void (await mempool.addMany(txs)),
    });
    sync = blockSync;
    await blockSync.start();
    driver.onMissingBlock = () => blockSync.trigger();
    const lookAround = () => {
      dialBootstrap(net, config.network.bootstrap);
      blockSync.trigger();
      void blockSync.catchUp();
      void blockSync.pullMempool();
    };
    net.addEventListener("peer:connect", lookAround);
    // Also now and then: a node that fell behind, or missed a round's
    // messages, catches up without waiting for new traffic.
    syncTimer = setInterval(lookAround, SYNC_INTERVAL_MS);
    syncTimer.unref();
    // Expired transactions leave with TX_EXPIRED within a second, whether or
    // not a block comes (one behind a nonce gap never gets one).
    expiryTimer = setInterval(() => mempool.dropExpired(Date.now()), EXPIRY_SWEEP_MS);
    expiryTimer.unref();
    unsubscribers.push(
      startTxGossip({ host: net, topic: txTopic, mempool, publish }),
      bindTopic<{ message: ConsensusMessage; size: number }>(net, consensusTopic, {
        validate: async (data) => {
          const { verdict, value } = validateConsensusMessage(data, consensusGossip);
          return value ? { verdict, value: { message: value, size: data.length } } : { verdict };
        },
        onMessage: ({ message, size }) => {
          driver.receive(message, size);
          hooks.delivered?.(message, publishConsensus);
        },
      }),
      bindTopic<DuplicateVoteEvidence>(net, evidenceTopic, {
        validate: (data) => validateEvidenceMessage(data, evidenceGossip),
        onMessage: (e) => {
          if (evidencePool.add(e))
            log.warn(
              { validator: toHex(e.first.vote.validator) },
              "equivocation reported by a peer",
            );
        },
      }),
    );
    dialBootstrap(net, config.network.bootstrap);
    metrics.height.set(chain.head.height);
    let lastBlockTime = chain.head.header.time;
    unsubscribers.push(
      chain.onHead((head, _certificate, exec) => {
        // Whoever committed it (consensus or block sync), the mempool lets go of
        // what the block included and of what its senders' nonces made stale.
        mempool.removeCommitted(exec.txHashes);
        evidencePool.remove(exec.block.evidence);
        void mempool.dropStale(exec.senders);
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
      validatorKey: guard.publicKey,
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
        validator: chain
          .validatorsAt(chain.head.height + 1)
          .some((v) => equalBytes(v.publicKey, key.publicKey))
          ? formatAddress(addressFromPublicKey(key.publicKey))
          : null,
      },
      "node started",
    );
    return { apiUrl };
  };
  const stop = async (): Promise<void> => {
    await api?.close();
    await driver.stop();
    if (syncTimer) clearInterval(syncTimer);
    if (expiryTimer) clearInterval(expiryTimer);
    await sync?.stop();
    hooks.stopping?.();
    // Unsubscribe while pubsub still runs, then stop the host.
    for (const u of unsubscribers.splice(0)) u();
    const net = host;
    host = null;
    await net?.stop();
    await db.close();
    await verifierPool.close();
  };

  return {
    config,
    chain,
    mempool,
    async start() {
      try {
        return await startAll();
      } catch (err) {
        // Undo what did start (database, p2p host, worker threads): a node that
        // failed to start leaves nothing running, so its process can exit.
        await stop().catch((e: unknown) => log.warn({ err: e }, "stop after a failed start"));
        throw err;
      }
    },
    stop,
  };
}

/** How often the mempool sheds expired transactions. */
const EXPIRY_SWEEP_MS = 1000;

/** How often a node asks its peers for blocks, consensus messages and transactions it missed. */
const SYNC_INTERVAL_MS = 2000;
