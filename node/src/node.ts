/**
 * The composition root: the only place that knows every subsystem. Builds
 * them in order (database → chain → mempool → signing guard → consensus →
 * network → API), starts them, and stops them in reverse. It only wires:
 * each rule lives in its subsystem, and other builds (the test build's
 * faults) come in through the seams of hooks.ts.
 */
import type { NodeHealthJson } from "@edgeledger/sdk/api";
import { addressFromPublicKey, equalBytes, formatAddress, toHex } from "@edgeledger/sdk/protocol";
import { createNativeVerifier, useNativeSha256 } from "@edgeledger/sdk/protocol/node";
import { type RunningApi, startApi } from "./api/start.ts";
import { Chain } from "./chain/chain.ts";
import { createSignatureChecks } from "./chain/signatureChecks.ts";
import { haltHeightOf, type NodeConfig } from "./config/config.ts";
import { loadNodeKey } from "./config/nodeKey.ts";
import { loadNodeSetup, type SetupOverrides } from "./config/setup.ts";
import { createConsensus } from "./consensus/start.ts";
import { Database } from "./db/database.ts";
import { Pruner } from "./db/pruner.ts";
import { databaseSize, storageReport } from "./db/report.ts";
import { EvidencePool } from "./evidence/pool.ts";
import { stallLimitMs } from "./health/health.ts";
import { type HealthMonitor, startHealthMonitor } from "./health/monitor.ts";
import type { NodeHooks } from "./hooks.ts";
import { followChain } from "./mempool/followChain.ts";
import { Mempool } from "./mempool/mempool.ts";
import { observeConsensus, registerConsensusMetrics } from "./metrics/consensus.ts";
import { registerHealthMetrics } from "./metrics/health.ts";
import { createMetrics } from "./metrics/metrics.ts";
import { consensusObservers, observeMetrics } from "./metrics/observe.ts";
import { registerStorageMetrics } from "./metrics/storage.ts";
import { registerUpgradeMetrics } from "./metrics/upgrades.ts";
import { createHost, dialBootstrap, type Host } from "./network/host.ts";
import { topicsOf } from "./network/topics.ts";
import { startTxGossip, type TxGossip } from "./network/txGossip.ts";
import { signingFor } from "./signer/signing.ts";
import type { Snapshots } from "./statesync/snapshots.ts";
import { openSnapshots, startStateSync, stateSyncJoin } from "./statesync/start.ts";
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
  const { keepRecent, retainBlocks, retainHeaders, compactAfterNodes, compactGrowthPercent } =
    config.pruning;
  const db = new Database(paths.data, {
    nodeCacheBytes: config.storage.stateCacheMB * 2 ** 20,
    retention: { keepRecent, retainBlocks, retainHeaders },
  });
  const chain = new Chain(db, genesis);
  const metrics = createMetrics();
  const consensusMetrics = registerConsensusMetrics(metrics.registry, genesis.chainId);
  // -- storage (pruning, snapshots, size) --
  let snapshots: Snapshots | null = null;
  const dbSizeBytes = databaseSize(paths.data);
  const storageOf = () =>
    storageReport({
      db,
      pruner,
      head: () => chain.head.height,
      snapshots: () => snapshots?.list() ?? [],
      dbSizeBytes,
    });
  // Before the chain opens (a state sync join writing the state) there is no storage part.
  const storage = () => (chain.opened ? storageOf() : undefined);
  const storageMetrics = registerStorageMetrics(metrics.registry, storage);
  const pruner = new Pruner(
    db,
    { compactAfterNodes, compactGrowthPercent },
    {
      log,
      onPass: (pass) => storageMetrics.pass(pass),
      onCompaction: (c) => storageMetrics.compaction(c),
    },
  );
  const checks = createSignatureChecks(chainId, (height) => chain.validatorsAt(height));
  const { verifier, verifyBlockSignatures } = checks;
  const mempool = new Mempool(config.mempool, {
    verifierPool: checks.verifierPool,
    verified: checks.verified,
    chainId,
    verifier: createNativeVerifier(),
    accounts: chain.accounts,
    isKnown: (hash) => db.getTx(hash) !== undefined,
    now: Date.now,
    nextValidators: () => chain.validatorsAt(chain.head.height + 1),
    nextProtocolVersion: () => chain.protocolVersionAt(chain.head.height + 1),
  });
  // Every node has a key and a guard: it signs only at heights whose set holds its key
  // (genesis, or voted in later), so a full node can become a validator without a restart.
  // The key is in its home, or in the remote signer config.json names (signer/signing.ts).
  const signing = signingFor({
    key,
    config,
    configFile: paths.config,
    db,
    chainId,
    verifier: createNativeVerifier(),
    log,
    ...(hooks.signer && { wrapKey: hooks.signer }),
  });
  const guard = signing.guard;
  const evidencePool = new EvidencePool();
  const topics = topicsOf(chainId);
  // haltHeight: consensus decides nothing after it, block sync commits nothing above it.
  const haltHeight = haltHeightOf(config);
  let health: HealthMonitor | null = null;
  // -- state sync (statesync) -- its report stands for health until the chain opens.
  const joining = stateSyncJoin({
    config,
    db,
    chainId,
    verifier,
    genesis,
    log,
    registry: metrics.registry,
  });
  // Until the chain opens, a join's report stands for health (statesync/start.ts).
  const nodeHealth = (): NodeHealthJson =>
    health ? { ...health.report(), storage: storageOf() } : joining.health()!;
  const healthMetrics = registerHealthMetrics(metrics.registry, nodeHealth);
  registerUpgradeMetrics(metrics.registry, chain);
  let host: Host | null = null;
  let sync: { readonly sync: BlockSync; stop(): Promise<void> } | null = null;
  let api: RunningApi | null = null;
  let txGossip: TxGossip | null = null;
  const publish = (topic: string, data: Uint8Array) => {
    host?.services.pubsub
      .publish(topic, data)
      .catch((err: unknown) => log.debug({ err, topic }, "publish failed"));
  };
  const consensus = createConsensus({
    config,
    chain,
    mempool,
    guard,
    evidencePool,
    verifier,
    verifyBlockSignatures,
    log,
    hooks,
    topics,
    publish,
    triggerSync: () => sync?.sync.trigger(),
    catchUp: () => void sync?.sync.catchUp(),
    flushTxGossip: () => txGossip?.flush(),
    observe: consensusObservers(metrics, consensusMetrics),
    ...(haltHeight !== null && { haltAfter: (height: number) => height >= haltHeight }),
  });
  const unsubscribers: (() => void)[] = [];

  const startAll = async (): Promise<{ apiUrl: string }> => {
    await db.open();
    const nodeKey = await loadNodeKey(paths.nodeKey);
    // The host first: state sync (an empty database, statesync.enable) needs peers before the chain opens.
    const net = await createHost(nodeKey, chainId, config.network, hooks.gater);
    host = net;
    hooks.started?.(net);
    // -- state sync (statesync) --
    await joining.joinIfEmpty(
      net,
      { logger: log, registry: metrics.registry, bodyLimit: config.api.bodyLimit },
      hooks.stateSyncChunkWrite && (() => hooks.stateSyncChunkWrite!()),
    );
    await chain.init();
    // Before the pruner's first pass: snapshot heights keep their state.
    const opened = openSnapshots(config, db, chain, log);
    snapshots = opened;
    // Resumes what a previous run left to prune (a stop or crash between steps).
    pruner.onCommit(chain.head.height);
    await signing.start(nodeKey);
    sync = await startSync({
      host: net,
      chain,
      db,
      verifier,
      log,
      verifyBlockSignatures,
      mempool,
      bootstrap: config.network.bootstrap,
      messagesFor: consensus.messagesFor,
      acceptConsensus: consensus.admit,
      ...(haltHeight !== null && { lastHeight: haltHeight }),
    });
    // -- state sync (statesync) --
    const snapshotting = await startStateSync({
      snapshots: opened,
      db,
      chain,
      host: net,
      log,
      ...(hooks.stateSyncChunk && { wrapChunk: (c: Uint8Array) => hooks.stateSyncChunk!(c) }),
    });
    unsubscribers.push(() => void snapshotting.stop());
    const syncing = sync.sync;
    const monitor = startHealthMonitor({
      chain,
      peers: () => net.getPeers().length,
      bestPeerHeight: () => syncing.bestPeerHeight,
      validatorKey: () => guard.publicKey,
      haltHeight,
      stallMs: stallLimitMs(config.block.heartbeatMs),
      now: Date.now,
      onChange: (report, from) => {
        healthMetrics.changed(report.status);
        if (report.status === "halted")
          // warn: seen at the default log level, where an operator waits for it.
          log.warn(
            { height: report.height, hash: toHex(chain.head.hash), haltHeight },
            "halted at haltHeight: not proposing or voting, still serving reads; restart with a higher haltHeight (or none) to continue",
          );
        else log.info({ ...report, from }, `health: ${report.status}`);
      },
    });
    health = monitor;
    const gossip = startTxGossip({ host: net, topic: topics.txs, mempool, publish });
    txGossip = gossip;
    const stopTxGossip = () => gossip.stop();
    unsubscribers.push(
      followChain({ chain, mempool, evidence: evidencePool, db, now: Date.now }),
      observeMetrics(metrics, chain, mempool),
      observeConsensus(consensusMetrics, chain),
      chain.onHead((head) =>
        log.info({ height: head.height, txs: head.header.txCount }, "block committed"),
      ),
      chain.onHead((head) => pruner.onCommit(head.height)),
      stopTxGossip,
      () => monitor.stop(),
      ...consensus.bind(net),
    );
    dialBootstrap(net, config.network.bootstrap);
    api = await startApi(
      {
        ...(overrides.devKey && { devKey: overrides.devKey }),
        chain,
        db,
        mempool,
        validatorKey: () => guard.publicKey,
        version: NODE_VERSION,
        health: nodeHealth,
      },
      {
        logger: log,
        registry: metrics.registry,
        bodyLimit: config.api.bodyLimit,
        host: config.api.host,
        port: config.api.port,
        ...(config.explorer && {
          explorer: { chainId, trust: { genesisHash: toHex(chain.genesisHash) }, headStream: true },
        }),
      },
    );
    consensus.driver.start();
    const validating = chain
      .validatorsAt(chain.head.height + 1)
      .some((v) => equalBytes(v.publicKey, guard.publicKey));
    const validator = validating ? formatAddress(addressFromPublicKey(guard.publicKey)) : null;
    log.info({ apiUrl: api.url, height: chain.head.height, validator }, "node started");
    return { apiUrl: api.url };
  };
  const stop = async (): Promise<void> => {
    await api?.close();
    await consensus.driver.stop();
    await signing.stop();
    await sync?.stop();
    hooks.stopping?.();
    // Unsubscribe while pubsub still runs, then stop the host.
    for (const u of unsubscribers.splice(0)) u();
    const net = host;
    host = null;
    await net?.stop();
    await pruner.stop();
    await db.close();
    await checks.close();
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
