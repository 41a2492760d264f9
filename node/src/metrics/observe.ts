/**
 * The node's metrics fed from chain and mempool events (subsystems do not
 * import prom-client; this is where they meet it).
 */
import type { Chain } from "../chain/chain.ts";
import type { HeightPhase } from "../consensus/phases.ts";
import type { Mempool } from "../mempool/mempool.ts";
import type { ConsensusMetrics } from "./consensus.ts";
import type { NodeMetrics } from "./metrics.ts";

/** What consensus reports (it does not import prom-client either): phases (and so commit latency) and compact rebuilds. */
export function consensusObservers(metrics: NodeMetrics, consensus: ConsensusMetrics) {
  return {
    phase: consensus.phases((phase: HeightPhase, seconds: number) =>
      metrics.consensusPhase.observe({ phase }, seconds),
    ),
    rebuild: (outcome: "rebuilt" | "fetched", seconds: number) =>
      metrics.compactRebuild.observe({ outcome }, seconds),
  };
}

/** Starts observing; returns the function that stops it. */
export function observeMetrics(metrics: NodeMetrics, chain: Chain, mempool: Mempool): () => void {
  metrics.height.set(chain.head.height);
  let lastBlockTime = chain.head.header.time;
  let shedSeen = 0;
  const backlog = () => {
    const { capacity, shed } = mempool.clientBacklog();
    if (Number.isFinite(capacity)) metrics.mempoolCapacity.set(capacity);
    metrics.mempoolShed.inc(shed - shedSeen);
    shedSeen = shed;
  };
  const unsubscribers = [
    chain.onHead((head) => {
      metrics.height.set(head.height);
      metrics.txsCommitted.inc(head.header.txCount);
      metrics.blockInterval.observe(Math.max(0, head.header.time - lastBlockTime) / 1000);
      lastBlockTime = head.header.time;
      metrics.mempoolSize.set(mempool.size);
      backlog();
    }),
    mempool.onDrop((e) => {
      metrics.mempoolDropped.inc({ code: e.code });
      metrics.mempoolSize.set(mempool.size);
    }),
    mempool.onAdd(() => metrics.mempoolSize.set(mempool.size)),
  ];
  // Sheds happen between heads too (a stalled chain sheds most): read every second as well.
  const timer = setInterval(backlog, 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    for (const u of unsubscribers) u();
  };
}
