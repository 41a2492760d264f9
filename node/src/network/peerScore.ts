/**
 * Peer scoring: invalid data costs the sender. Owns the gossipsub score
 * parameters of our three topics and the global thresholds, the penalties
 * that stream protocols (block sync, catch-up, mempool pull) report, and the
 * decision to hang up on a peer and refuse it for a while. Knows nothing of
 * blocks or votes: the topic validators (gossip.ts, node.ts) decide what is
 * invalid; this only makes it expensive.
 *
 * Three parts:
 * - `gossipScoreParams(chainId, ledger)`: what gossipsub scores. Without
 *   parameters for a topic gossipsub ignores it in scoring, so a REJECT
 *   verdict would cost nothing; here each topic weighs invalid messages
 *   (P4) heavily and rewards little, so a handful of rejected messages takes
 *   a peer below the graylist threshold whatever credit it earned. Stream
 *   penalties enter gossipsub as the application score (P5), so a peer that
 *   serves bad blocks is graylisted on gossip too. The sizing, and why, is in
 *   docs/consensus.md ("Peer scoring").
 * - `PeerLedger`: pure, clocked by `now`: decaying stream penalties and the
 *   ban list, both in bounded maps, and the counters metrics read.
 * - `peerScoring(ledger, options)`: the libp2p service that checks scores
 *   every second and hangs up on peers under the disconnect threshold;
 *   `banGater` refuses their redials until the ban ends. Gossipsub itself
 *   only graylists (ignores RPCs) and keeps the connection, and it forgets a
 *   peer's score when the peer reconnects (its `addPeer` replaces retained
 *   stats), so the ban is what makes a disconnect stick.
 *
 * Long on purpose: gossipsub's score parameters per topic, each with the
 * reasoning for its value, are most of it; the rule itself is short.
 */
import { BaseError } from "@edgeledger/sdk/protocol";
import type { GossipSub } from "@libp2p/gossipsub";
import type {
  PeerScoreParams,
  PeerScoreThresholds,
  TopicScoreParams,
} from "@libp2p/gossipsub/score";
import type { Connection, ConnectionGater, PeerId, Startable } from "@libp2p/interface";
import { type GossipKind, topicName } from "./topics.ts";

/**
 * Gossipsub thresholds, in the usual order (0 ≥ gossip ≥ publish ≥
 * graylist; acceptPX, opportunistic graft ≥ 0). The scale is set by the
 * most a peer can earn, `MAX_POSITIVE_SCORE`: graylist sits four times that
 * far below zero, so earned credit never buys more than one extra invalid
 * message.
 */
export const scoreThresholds: PeerScoreThresholds = {
  /** Below: we stop sending it IHAVE gossip and ignore its IHAVEs. */
  gossipThreshold: -10,
  /** Below: we do not publish or flood our own messages to it. */
  publishThreshold: -20,
  /** Below: every RPC from it is dropped unread (and peerScoring hangs up). */
  graylistThreshold: -40,
  /** Peer exchange only from peers that earned real credit (PX is off by default anyway). */
  acceptPXThreshold: 5,
  /** Median mesh score under this: graft better peers (a mesh of slackers gets refreshed). */
  opportunisticGraftThreshold: 2,
};

/** The cap on the sum of topic scores (P1 + P2 over all topics). */
export const MAX_POSITIVE_SCORE = 10;

/**
 * Stream-protocol penalty weights (the application score, P5, counts them
 * negatively). `invalid`: a reply that fails verification (a bad
 * certificate, a block that does not execute); three within a half-life
 * disconnect. `fatal`: provably malicious, disconnects at once. `minor`: a
 * timeout or an oversized reply, which honest but slow peers also earn now
 * and then; it takes many.
 */
export const PENALTY = { minor: 2, invalid: 15, fatal: 41 } as const;

export interface PeerScoreOptions {
  /** Hang up on a peer whose score is below this (≤ graylistThreshold). */
  readonly disconnectThreshold: number;
  /** How long a disconnected peer is refused (ms). */
  readonly banMs: number;
  /** How often connected peers' scores are checked (ms). */
  readonly checkIntervalMs: number;
  /** Stream penalties halve over this (ms). */
  readonly penaltyHalfLifeMs: number;
  /** Most peers with a penalty, and most banned peers, remembered (each map). */
  readonly maxTrackedPeers: number;
  /**
   * IPs exempt from the colocation penalty (P6). Loopback: every peer of a
   * test network or a one-host dev network is on 127.0.0.1, by
   * construction, and a hostile process on the same host has better attacks.
   */
  readonly colocationWhitelist: readonly string[];
}

export const defaultPeerScoreOptions: PeerScoreOptions = {
  disconnectThreshold: scoreThresholds.graylistThreshold,
  banMs: 10 * 60_000,
  checkIntervalMs: 1000,
  penaltyHalfLifeMs: 2 * 60_000,
  maxTrackedPeers: 1024,
  colocationWhitelist: ["127.0.0.1", "::1"],
};

/** Gossipsub decays counters once per this (its minimum). */
const DECAY_INTERVAL_MS = 1000;
/** A decayed counter under this counts as zero. */
const DECAY_TO_ZERO = 0.01;

/** The per-interval factor that takes a counter of 1 to `DECAY_TO_ZERO` in `ms`. */
export function decayFactor(ms: number, intervalMs = DECAY_INTERVAL_MS): number {
  return DECAY_TO_ZERO ** (intervalMs / ms);
}

/** A topic that is scored only for invalid messages: P1, P2, P3, P3b off. */
const OFF: TopicScoreParams = {
  topicWeight: 1,
  timeInMeshWeight: 0,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 1,
  firstMessageDeliveriesWeight: 0,
  firstMessageDeliveriesDecay: 0.5,
  firstMessageDeliveriesCap: 1,
  // P3/P3b: a mesh peer is expected to deliver so many messages per window.
  // Our traffic is bursty and can be zero (an idle chain makes no blocks,
  // transactions come when clients send them), so an expectation would
  // punish honest mesh peers exactly when nothing happens. Off everywhere.
  meshMessageDeliveriesWeight: 0,
  meshMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesCap: 1,
  meshMessageDeliveriesThreshold: 1,
  meshMessageDeliveriesWindow: 10,
  meshMessageDeliveriesActivation: 1000,
  meshFailurePenaltyWeight: 0,
  meshFailurePenaltyDecay: 0.5,
  invalidMessageDeliveriesWeight: -1,
  invalidMessageDeliveriesDecay: decayFactor(10 * 60_000),
};

/**
 * Per topic. A rejected message adds 1 to the peer's P4 counter, which
 * costs topicWeight × weight × counter², and decays to nothing over 10
 * minutes. Hence the number of invalid messages (in quick succession) that
 * takes a peer with no credit under graylist (-40): consensus 4, txs 7,
 * evidence 3. P1 (time in mesh) and P2 (first deliveries) give a little
 * credit on the busy topics; evidence earns none (it is rare, and credit
 * there could only be farmed).
 */
export const TOPIC_SCORE_PARAMS: Readonly<Record<GossipKind, TopicScoreParams>> = {
  // Proposals and votes: a few per validator per round, each checked
  // deterministically against the chain; an honest node never forwards one
  // we reject, so little tolerance.
  consensus: {
    ...OFF,
    topicWeight: 1,
    timeInMeshWeight: 1 / 60,
    timeInMeshQuantum: 10_000,
    timeInMeshCap: 60, // +1 after 10 minutes in the mesh
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: decayFactor(60_000),
    firstMessageDeliveriesCap: 5,
    invalidMessageDeliveriesWeight: -4,
  },
  // Batches of up to MAX_TX_BATCH transactions. A batch is rejected when one
  // item is (bad signature, malformed…), which relays of a buggy client can
  // hit more often than consensus: more tolerance.
  txs: {
    ...OFF,
    topicWeight: 0.5,
    timeInMeshWeight: 1 / 60,
    timeInMeshQuantum: 10_000,
    timeInMeshCap: 60,
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: decayFactor(60_000),
    firstMessageDeliveriesCap: 4,
    invalidMessageDeliveriesWeight: -2,
  },
  // Equivocation evidence: rare, fully verifiable; invalid evidence is
  // deliberate.
  evidence: { ...OFF, topicWeight: 1, invalidMessageDeliveriesWeight: -6 },
};

/** Gossipsub's `scoreParams`: our topics for `chainId`, stream penalties as P5. */
export function gossipScoreParams(
  chainId: string,
  ledger: PeerLedger,
  options: PeerScoreOptions = defaultPeerScoreOptions,
): PeerScoreParams {
  const topics: Record<string, TopicScoreParams> = {};
  for (const kind of Object.keys(TOPIC_SCORE_PARAMS) as GossipKind[])
    topics[topicName(chainId, kind)] = TOPIC_SCORE_PARAMS[kind];
  return {
    topics,
    topicScoreCap: MAX_POSITIVE_SCORE,
    appSpecificScore: (peer) => -ledger.penalty(peer),
    appSpecificWeight: 1,
    // P6: more than 8 identities behind one (non-loopback) IP cost each of
    // them 5 × surplus²; at 11 they are disconnected. A few nodes of one
    // operator behind a NAT stay untouched.
    IPColocationFactorWeight: -5,
    IPColocationFactorThreshold: 8,
    IPColocationFactorWhitelist: new Set(options.colocationWhitelist),
    // P7 (broken IWANT promises, GRAFT during backoff): a few happen to
    // honest peers when caches expire; 8 in quick succession reach
    // gossipThreshold.
    behaviourPenaltyWeight: scoreThresholds.gossipThreshold / 16,
    behaviourPenaltyThreshold: 4,
    behaviourPenaltyDecay: decayFactor(10 * 60_000),
    decayInterval: DECAY_INTERVAL_MS,
    decayToZero: DECAY_TO_ZERO,
    // Gossipsub drops retained stats on reconnect anyway; the ban is ours.
    retainScore: options.banMs,
  };
}

/** What metrics read: counters since start, and current sizes. */
export interface PeerScoreCounters {
  /** Stream penalties by reason (at most `MAX_REASONS` reasons, the rest as "other"). */
  readonly penalties: Readonly<Record<string, number>>;
  /** Peers hung up on for a low score. */
  readonly disconnects: number;
  /** Connections and dials refused because the peer is banned. */
  readonly refused: number;
  readonly bannedPeers: number;
  readonly penalizedPeers: number;
}

/** Distinct penalty reasons counted by name; reasons are codes from our code, so few. */
const MAX_REASONS = 64;

/**
 * Stream penalties and bans, keyed by peer id string, clocked by `now`.
 * Pure: no timers, no sockets. Memory is bounded: when a map is full the
 * entry that matters least goes (the smallest penalty; the ban that ends
 * first), so a flood of fresh identities cannot push out a real offender's
 * record without out-offending it.
 */
export class PeerLedger {
  readonly #options: PeerScoreOptions;
  readonly #now: () => number;
  readonly #penalties = new Map<string, { value: number; at: number }>();
  readonly #bans = new Map<string, number>();
  readonly #reasons = new Map<string, number>();
  #disconnects = 0;
  #refused = 0;

  constructor(options: PeerScoreOptions = defaultPeerScoreOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  /** The peer's current (decayed) stream penalty, ≥ 0. */
  penalty(peer: string): number {
    const entry = this.#penalties.get(peer);
    if (!entry) return 0;
    const value = this.#decayed(entry);
    if (value < DECAY_TO_ZERO) {
      this.#penalties.delete(peer);
      return 0;
    }
    return value;
  }

  /** Adds `weight` to the peer's penalty; returns the new penalty. */
  penalize(peer: string, reason: string, weight: number): number {
    const key = this.#reasons.has(reason) || this.#reasons.size < MAX_REASONS ? reason : "other";
    this.#reasons.set(key, (this.#reasons.get(key) ?? 0) + 1);
    const value = this.penalty(peer) + Math.max(0, weight);
    if (!this.#penalties.has(peer) && this.#penalties.size >= this.#options.maxTrackedPeers)
      this.#evictSmallestPenalty();
    this.#penalties.set(peer, { value, at: this.#now() });
    return value;
  }

  /** Refuses the peer for `banMs` from now (a later end wins over an earlier one). */
  ban(peer: string): void {
    this.#disconnects++;
    const until = this.#now() + this.#options.banMs;
    if (!this.#bans.has(peer) && this.#bans.size >= this.#options.maxTrackedPeers)
      this.#evictEarliestBan();
    this.#bans.set(peer, Math.max(until, this.#bans.get(peer) ?? 0));
  }

  isBanned(peer: string): boolean {
    const until = this.#bans.get(peer);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#bans.delete(peer);
    return false;
  }

  /** The gater's question: refuse this peer? (Counts refusals.) */
  refuse(peer: string): boolean {
    const banned = this.isBanned(peer);
    if (banned) this.#refused++;
    return banned;
  }

  counters(): PeerScoreCounters {
    return {
      penalties: Object.fromEntries(this.#reasons),
      disconnects: this.#disconnects,
      refused: this.#refused,
      bannedPeers: this.#bans.size,
      penalizedPeers: this.#penalties.size,
    };
  }

  #decayed(entry: { value: number; at: number }): number {
    const elapsed = Math.max(0, this.#now() - entry.at);
    return entry.value * 0.5 ** (elapsed / this.#options.penaltyHalfLifeMs);
  }

  #evictSmallestPenalty(): void {
    let victim: string | null = null;
    let least = Number.POSITIVE_INFINITY;
    for (const [peer, entry] of this.#penalties) {
      const value = this.#decayed(entry);
      if (value < least) [victim, least] = [peer, value];
    }
    if (victim !== null) this.#penalties.delete(victim);
  }

  #evictEarliestBan(): void {
    let victim: string | null = null;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [peer, until] of this.#bans)
      if (until < earliest) [victim, earliest] = [peer, until];
    if (victim !== null) this.#bans.delete(victim);
  }
}

/** The peer scoring service, `host.services.peerScore`. */
export interface PeerScorer extends Startable {
  /**
   * A stream protocol's report of misbehaviour (block sync, catch-up,
   * mempool pull): `reason` is its error code, `weight` defaults to
   * `PENALTY.invalid`. Hangs up at once if this takes the peer under the
   * disconnect threshold.
   */
  penalize(peer: PeerId, reason: string, weight?: number): void;
  /** The score the disconnect decision uses: the lower of gossipsub's and the stream penalty's. */
  score(peer: PeerId): number;
  isBanned(peer: PeerId): boolean;
  counters(): PeerScoreCounters;
}

/** What the service needs from libp2p (its components, with the pubsub service). */
export interface PeerScoringComponents {
  readonly connectionManager: {
    getConnections(peer?: PeerId): Connection[];
    closeConnections(peer: PeerId): Promise<void>;
  };
  readonly pubsub: GossipSub;
}

export class PeerScoreError extends BaseError<"PEER_SCORE_UNAVAILABLE"> {
  override name = "PeerScoreError";
}

/**
 * Gossipsub's score of a peer. Its public interface does not declare
 * `getScore` (the class has it, and lodestar reads it the same way), so
 * check for it once: an upgrade that drops it fails at start, loudly,
 * instead of leaving every peer at score 0.
 */
function gossipScores(pubsub: GossipSub): (peer: string) => number {
  const scored = pubsub as GossipSub & { getScore?: unknown };
  if (typeof scored.getScore !== "function")
    throw new PeerScoreError(
      "PEER_SCORE_UNAVAILABLE",
      "This @libp2p/gossipsub has no getScore(): pin a version that scores peers (17.x).",
    );
  const getScore = scored.getScore as (peer: string) => number;
  return (peer) => getScore.call(pubsub, peer);
}

/** The libp2p service factory (register after `pubsub`: it reads the pubsub component). */
export function peerScoring(
  ledger: PeerLedger,
  options: PeerScoreOptions = defaultPeerScoreOptions,
): (components: PeerScoringComponents) => PeerScorer {
  return (components) => {
    const { connectionManager } = components;
    const gossipScore = gossipScores(components.pubsub);
    let timer: ReturnType<typeof setInterval> | null = null;
    const score = (peer: PeerId): number => {
      const id = peer.toString();
      // Gossipsub knows only peers with a pubsub stream; the penalty alone counts too.
      return Math.min(gossipScore(id), -ledger.penalty(id));
    };
    const hangUpIfLow = (peer: PeerId): void => {
      if (score(peer) >= options.disconnectThreshold || ledger.isBanned(peer.toString())) return;
      ledger.ban(peer.toString());
      void connectionManager.closeConnections(peer).catch(() => undefined);
    };
    const check = (): void => {
      const seen = new Set<string>();
      for (const c of connectionManager.getConnections()) {
        const id = c.remotePeer.toString();
        if (seen.has(id)) continue;
        seen.add(id);
        if (ledger.isBanned(id)) {
          // Already banned (a connection that raced the ban): close it too.
          void connectionManager.closeConnections(c.remotePeer).catch(() => undefined);
          continue;
        }
        hangUpIfLow(c.remotePeer);
      }
    };
    return {
      start() {
        timer = setInterval(check, options.checkIntervalMs);
        timer.unref();
      },
      stop() {
        if (timer) clearInterval(timer);
        timer = null;
      },
      penalize(peer, reason, weight = PENALTY.invalid) {
        ledger.penalize(peer.toString(), reason, weight);
        hangUpIfLow(peer);
      },
      score,
      isBanned: (peer) => ledger.isBanned(peer.toString()),
      counters: () => ledger.counters(),
    };
  };
}

/**
 * Refuses banned peers both ways, once their identity is known (after the
 * Noise handshake for inbound connections), composed with `inner` (the
 * tests' partitions): a connection is refused if either refuses it. Every
 * hook of `inner` is called as its method (not copied), so a gater written
 * as a class keeps working.
 */
export function banGater(ledger: PeerLedger, inner: ConnectionGater = {}): ConnectionGater {
  const banned = (peer: PeerId) => ledger.refuse(peer.toString());
  return {
    denyDialPeer: async (peer) => banned(peer) || ((await inner.denyDialPeer?.(peer)) ?? false),
    denyInboundEncryptedConnection: async (peer, conn) =>
      banned(peer) || ((await inner.denyInboundEncryptedConnection?.(peer, conn)) ?? false),
    denyOutboundEncryptedConnection: async (peer, conn) =>
      banned(peer) || ((await inner.denyOutboundEncryptedConnection?.(peer, conn)) ?? false),
    denyDialMultiaddr: async (ma) => (await inner.denyDialMultiaddr?.(ma)) ?? false,
    denyInboundConnection: async (conn) => (await inner.denyInboundConnection?.(conn)) ?? false,
    denyOutboundConnection: async (peer, conn) =>
      (await inner.denyOutboundConnection?.(peer, conn)) ?? false,
    denyInboundUpgradedConnection: async (peer, conn) =>
      (await inner.denyInboundUpgradedConnection?.(peer, conn)) ?? false,
    denyOutboundUpgradedConnection: async (peer, conn) =>
      (await inner.denyOutboundUpgradedConnection?.(peer, conn)) ?? false,
    denyInboundRelayReservation: async (source) =>
      (await inner.denyInboundRelayReservation?.(source)) ?? false,
    denyOutboundRelayedConnection: async (source, destination) =>
      (await inner.denyOutboundRelayedConnection?.(source, destination)) ?? false,
    denyInboundRelayedConnection: async (relay, remote) =>
      (await inner.denyInboundRelayedConnection?.(relay, remote)) ?? false,
    filterMultiaddrForPeer: async (peer, ma) =>
      (await inner.filterMultiaddrForPeer?.(peer, ma)) ?? true,
  };
}
