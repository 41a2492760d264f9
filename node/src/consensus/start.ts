/**
 * Consensus as a running node uses it: the driver (driver.ts) with its
 * broadcaster on the consensus topic, equivocation evidence gossiped and
 * pooled, and the consensus and evidence topics bound to the host once it
 * runs. Wiring only: the rules are in engine.ts, driver.ts, gossip.ts and
 * evidence/; the test build's faults come in through `hooks` (hooks.ts).
 */
import {
  type ConsensusMessage,
  compactProposal,
  encodeConsensusMessage,
  encodeEvidence,
  type SignatureVerifier,
} from "@edgeledger/sdk/protocol";
import type { Logger } from "pino";
import type { Chain } from "../chain/chain.ts";
import type { NodeConfig } from "../config/config.ts";
import type { EvidencePool } from "../evidence/pool.ts";
import { bindEvidenceTopic } from "../evidence/topic.ts";
import type { NodeHooks, PublishConsensus } from "../hooks.ts";
import type { Mempool } from "../mempool/mempool.ts";
import type { Host } from "../network/host.ts";
import { stillBehind } from "../sync/behind.ts";
import { type CompactReceiverDeps, compactReceiver } from "./compact.ts";
import { ConsensusDriver, type DriverDeps } from "./driver.ts";
import type { ConsensusGossipDeps } from "./gossip.ts";
import type { PhaseObserver } from "./phases.ts";
import type { SigningGuard } from "./signingGuard.ts";
import { admitConsensus, bindConsensusTopic, consensusGossipDeps } from "./topic.ts";

export interface ConsensusStartDeps {
  readonly config: Pick<NodeConfig, "block" | "consensus">;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly guard: SigningGuard;
  readonly evidencePool: EvidencePool;
  readonly verifier: ConsensusGossipDeps["verifier"] & SignatureVerifier;
  readonly verifyBlockSignatures: NonNullable<DriverDeps["verifyBlockSignatures"]>;
  readonly log: Logger;
  readonly hooks: NodeHooks;
  readonly topics: { readonly consensus: string; readonly evidence: string };
  /** Publishes on a topic of the host, once there is one. */
  readonly publish: (topic: string, data: Uint8Array) => void;
  /** Asks block sync to look for blocks (a peer is ahead, or a decided block was not seen). */
  readonly triggerSync: () => void;
  /** Asks peers for this height's messages whole (a compact proposal names transactions we lack). */
  readonly catchUp: () => void;
  /** Publishes the transactions waiting for tx gossip, so they go out before a proposal naming them. */
  readonly flushTxGossip: () => void;
  /** Where heights and compact rebuilds spent their time (metrics). */
  readonly observe?: {
    readonly phase: PhaseObserver;
    readonly rebuild: NonNullable<CompactReceiverDeps["onRebuild"]>;
  };
  /** The driver's halt (haltHeight): true when the block at `height` is the last it decides. */
  readonly haltAfter?: (height: number) => boolean;
}

export interface RunningConsensus {
  readonly driver: ConsensusDriver;
  /** Admits a consensus message that came other than by gossip (a catch-up reply). */
  admit(data: Uint8Array): boolean;
  /** What this node serves a peer catching up on `height`. */
  messagesFor(height: number): readonly ConsensusMessage[];
  /** Binds the consensus and evidence topics; returns their unsubscribers. */
  bind(host: Host): (() => void)[];
}

export function createConsensus(deps: ConsensusStartDeps): RunningConsensus {
  const { chain, evidencePool, hooks, topics, publish, log, verifier } = deps;
  const chainId = chain.chainId;
  // Our proposals go out compact, after the transactions they name (compact.ts).
  const publishConsensus: PublishConsensus = (m) => {
    if (m.kind === "proposal") deps.flushTxGossip();
    publish(
      topics.consensus,
      encodeConsensusMessage(
        m.kind === "proposal" ? compactProposal(m, (stx) => deps.mempool.leafOf(stx)) : m,
      ),
    );
  };
  const broadcast = hooks.broadcast?.(publishConsensus) ?? publishConsensus;
  const driver = new ConsensusDriver(deps.config.block, {
    broadcast: {
      proposal: (proposal, block, polVotes) =>
        broadcast({ kind: "proposal", proposal, block, polVotes }),
      vote: (vote) => broadcast({ kind: "vote", vote }),
    },
    ...(hooks.proposer && { proposer: hooks.proposer }),
    verifyBlockSignatures: deps.verifyBlockSignatures,
    evidence: {
      pending: () => evidencePool.pending(),
      found: (e) => {
        if (evidencePool.add(e)) publish(topics.evidence, encodeEvidence(e));
      },
      unrecordable: (items) => evidencePool.remove(items),
    },
    chain,
    mempool: deps.mempool,
    guard: deps.guard,
    log,
    now: Date.now,
    timeouts: deps.config.consensus,
    ...(deps.observe && { onPhase: deps.observe.phase }),
    ...(deps.haltAfter && { haltAfter: deps.haltAfter }),
  });
  driver.onMissingBlock = deps.triggerSync;
  // A vote a remote signer signed late: out to peers, and to our own engine, as if just cast.
  deps.guard.onLateVote?.((vote) => {
    broadcast({ kind: "vote", vote });
    driver.receive({ kind: "vote", vote });
  });
  // A signer that was down when this height started: take part in it now, not from the next one.
  deps.guard.onKeyNamed?.(() => driver.keyNamed());
  const receive = compactReceiver({
    pool: deps.mempool,
    receive: (message, size) => driver.receive(message, size),
    fetchWhole: deps.catchUp,
    onError: (err) => log.warn({ err }, "rebuilding a compact proposal failed"),
    ...(deps.observe && { onRebuild: deps.observe.rebuild }),
  });
  // A peer's message from two heights up triggers block sync only if we still trail it soon after.
  const behind = stillBehind({ headHeight: () => chain.head.height, trigger: deps.triggerSync });
  const gossip = consensusGossipDeps(chainId, chain, verifier, behind);
  return {
    driver,
    admit: (data) => admitConsensus(data, gossip, receive),
    messagesFor: (height) => {
      const messages = driver.messagesFor(height);
      return hooks.catchUpReply?.(messages) ?? messages;
    },
    bind: (host) => [
      bindConsensusTopic(host, topics.consensus, gossip, receive, (message) =>
        hooks.delivered?.(message, publishConsensus),
      ),
      bindEvidenceTopic(host, topics.evidence, {
        chainId,
        chain,
        verifier,
        pool: evidencePool,
        log,
      }),
    ],
  };
}
