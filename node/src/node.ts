/**
 * The composition root: the only place that knows every subsystem. Builds
 * them in order (database → chain → mempool → signing guard → consensus →
 * network → API), starts them, and stops them in reverse. It only wires:
 * each rule lives in its subsystem, and other builds (the test build's
 * faults) come in through the seams of hooks.ts.
 */
import {
  addressFromPublicKey,
  encodeConsensusMessage,
  encodeEvidence,
  equalBytes,
  formatAddress,
} from "@edgeledger/sdk/protocol";
import {
  createNativeVerifier,
  createVerifierPool,
  nativeSigner,
  useNativeSha256,
} from "@edgeledger/sdk/protocol/node";
import type { FastifyInstance } from "fastify";
import { createNodeService } from "./api/nodeService.ts";
import { createApiServer } from "./api/server.ts";
import { blockSignatureCheck, cachingVerifier } from "./chain/blockSignatures.ts";
import { Chain } from "./chain/chain.ts";
import { VerifiedSignatures } from "./chain/verifiedSignatures.ts";
import type { NodeConfig } from "./config/config.ts";
import { loadNodeKey } from "./config/nodeKey.ts";
import { loadNodeSetup, type SetupOverrides } from "./config/setup.ts";
import { ConsensusDriver } from "./consensus/driver.ts";
import { SigningGuard } from "./consensus/signingGuard.ts";
import { admitConsensus, bindConsensusTopic, consensusGossipDeps } from "./consensus/topic.ts";
import { Database } from "./db/database.ts";
import { EvidencePool } from "./evidence/pool.ts";
import { bindEvidenceTopic } from "./evidence/topic.ts";
import type { NodeHooks, PublishConsensus } from "./hooks.ts";
import { followChain } from "./mempool/followChain.ts";
import { Mempool } from "./mempool/mempool.ts";
import { createMetrics } from "./metrics/metrics.ts";
import { observeMetrics } from "./metrics/observe.ts";
import { createHost, dialBootstrap, type Host } from "./network/host.ts";
import { topicName } from "./network/topics.ts";
import { startTxGossip } from "./network/txGossip.ts";
import type { BlockSync } from "./sync/blockSync.ts";
import { startSync } from "./sync/start.ts";

export const NODE_VERSION = "0.1.0";

export interface NodeOverrides extends SetupOverrides {
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
  const { paths, config, log, genesis, key } = loadNodeSetup(home, overrides);
  const hooks = overrides.hooks ?? {};
  const chainId = genesis.chainId;
  const db = new Database(paths.data);
  const chain = new Chain(db, genesis);
  const metrics = createMetrics();
  const verifierPool = createVerifierPool();
  // One memory of verified signatures, keyed by the exact signed bytes, shared
  // by admission, gossip validation and block checks (chain/verifiedSignatures.ts).
  const verified = new VerifiedSignatures();
  const verifier = cachingVerifier(createNativeVerifier(), verified);
  const mempool = new Mempool(config.mempool, {
    verifierPool,
    verified,
    chainId,
    verifier: createNativeVerifier(),
    accounts: chain.accounts,
    isKnown: (hash) => db.getTx(hash) !== undefined,
    now: Date.now,
    nextValidators: () => chain.validatorsAt(chain.head.height + 1),
  });
  // Every node has a key and a guard: it signs only at heights whose set holds its key
  // (genesis, or voted in later), so a full node can become a validator without a restart.
  const signer = nativeSigner(key);
  const guard = new SigningGuard(db, hooks.signer?.(signer, chainId) ?? signer, chainId);
  const evidencePool = new EvidencePool();
  const verifyBlockSignatures = blockSignatureCheck({
    chainId,
    verifierPool,
    verifier,
    verified,
    validatorsAt: (height) => chain.validatorsAt(height),
  });
  const topics = {
    txs: topicName(chainId, "txs"),
    consensus: topicName(chainId, "consensus"),
    evidence: topicName(chainId, "evidence"),
  };
  let host: Host | null = null;
  let sync: { readonly sync: BlockSync; stop(): Promise<void> } | null = null;
  const publish = (topic: string, data: Uint8Array) => {
    host?.services.pubsub
      .publish(topic, data)
      .catch((err: unknown) => log.debug({ err, topic }, "publish failed"));
  };
  const publishConsensus: PublishConsensus = (m) =>
    publish(topics.consensus, encodeConsensusMessage(m));
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
        if (evidencePool.add(e)) publish(topics.evidence, encodeEvidence(e));
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
  const receive = (message: Parameters<typeof driver.receive>[0], size: number) =>
    driver.receive(message, size);
  const consensusDeps = consensusGossipDeps(chainId, chain, verifier, () => sync?.sync.trigger());
  let api: FastifyInstance | null = null;
  const unsubscribers: (() => void)[] = [];

  const startAll = async (): Promise<{ apiUrl: string }> => {
    await db.open();
    await chain.init();
    const nodeKey = await loadNodeKey(paths.nodeKey);
    const net = await createHost(nodeKey, chainId, config.network, hooks.gater);
    host = net;
    hooks.started?.(net);
    sync = await startSync({
      host: net,
      chain,
      db,
      verifier,
      log,
      verifyBlockSignatures,
      mempool,
      bootstrap: config.network.bootstrap,
      messagesFor: (height) => {
        const messages = driver.messagesFor(height);
        return hooks.catchUpReply?.(messages) ?? messages;
      },
      acceptConsensus: (data) => admitConsensus(data, consensusDeps, receive),
    });
    const blockSync = sync.sync;
    driver.onMissingBlock = () => blockSync.trigger();
    unsubscribers.push(
      followChain({ chain, mempool, evidence: evidencePool, db, now: Date.now }),
      observeMetrics(metrics, chain, mempool),
      chain.onHead((head) =>
        log.info({ height: head.height, txs: head.header.txCount }, "block committed"),
      ),
      startTxGossip({ host: net, topic: topics.txs, mempool, publish }),
      bindConsensusTopic(net, topics.consensus, consensusDeps, receive, (message) =>
        hooks.delivered?.(message, publishConsensus),
      ),
      bindEvidenceTopic(net, topics.evidence, {
        chainId,
        chain,
        verifier,
        pool: evidencePool,
        log,
      }),
    );
    dialBootstrap(net, config.network.bootstrap);
    const service = createNodeService({
      ...(overrides.devKey && { devKey: overrides.devKey }),
      chain,
      db,
      mempool,
      validatorKey: guard.publicKey,
      version: NODE_VERSION,
    });
    api = createApiServer(service, {
      logger: log,
      registry: metrics.registry,
      bodyLimit: config.api.bodyLimit,
    });
    const apiUrl = await api.listen({ host: config.api.host, port: config.api.port });
    driver.start();
    const validator = chain
      .validatorsAt(chain.head.height + 1)
      .some((v) => equalBytes(v.publicKey, key.publicKey));
    const address = validator ? formatAddress(addressFromPublicKey(key.publicKey)) : null;
    log.info({ apiUrl, height: chain.head.height, validator: address }, "node started");
    return { apiUrl };
  };
  const stop = async (): Promise<void> => {
    await api?.close();
    await driver.stop();
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
