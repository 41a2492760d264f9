/**
 * Peer scoring against an attacker: in-process libp2p hosts on 127.0.0.1,
 * an honest node binding the topics (stub validators, and the real
 * transaction gossip over a real mempool), a hostile peer that joins them
 * and publishes invalid data, and an honest peer that publishes valid,
 * duplicate and stale data. Every wait is a condition with a deadline.
 */
import { encodeTxBatch } from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
import { validatePeerScoreParams, validatePeerScoreThresholds } from "@libp2p/gossipsub/score";
import type { PeerId } from "@libp2p/interface";
import { afterEach, describe, expect, it } from "vitest";
import { Mempool } from "../mempool/mempool.ts";
import {
  addressOf,
  CHAIN,
  keyOf,
  MemoryAccounts,
  NOW,
  signed,
  transfer,
} from "../testing/fixtures.ts";
import { bindTopic, type GossipVerdict } from "./gossip.ts";
import { createHost, type Host, newPeerKey } from "./host.ts";
import {
  banGater,
  defaultPeerScoreOptions,
  gossipScoreParams,
  PeerLedger,
  type PeerScoreOptions,
  scoreThresholds,
} from "./peerScore.ts";
import { topicName } from "./topics.ts";
import { startTxGossip } from "./txGossip.ts";

const GRAYLIST = scoreThresholds.graylistThreshold;

describe("PeerLedger (stream penalties and bans, on a fake clock)", () => {
  const options: PeerScoreOptions = {
    ...defaultPeerScoreOptions,
    banMs: 1000,
    penaltyHalfLifeMs: 100,
    maxTrackedPeers: 3,
  };

  it("decays penalties by half per half-life, and forgets them", () => {
    let now = 0;
    const ledger = new PeerLedger(options, () => now);
    expect(ledger.penalize("p", "SYNC_BAD_BLOCK", 40)).toBe(40);
    now = 100;
    expect(ledger.penalty("p")).toBeCloseTo(20);
    expect(ledger.penalize("p", "SYNC_BAD_BLOCK", 10)).toBeCloseTo(30);
    now = 100 + 100 * 20; // 2^-20 of 30
    expect(ledger.penalty("p")).toBe(0);
    expect(ledger.counters().penalizedPeers).toBe(0);
  });

  it("bans for banMs, counts refusals, then lets the peer back", () => {
    let now = 0;
    const ledger = new PeerLedger(options, () => now);
    ledger.ban("p");
    expect(ledger.refuse("p")).toBe(true);
    now = 999;
    expect(ledger.refuse("p")).toBe(true);
    expect(ledger.refuse("q")).toBe(false);
    now = 1000;
    expect(ledger.refuse("p")).toBe(false);
    expect(ledger.counters()).toMatchObject({ disconnects: 1, refused: 2, bannedPeers: 0 });
  });

  it("stays bounded: a flood of small offenders cannot push out a big one", () => {
    let now = 0;
    const ledger = new PeerLedger(options, () => now);
    ledger.penalize("big", "SYNC_BAD_CERTIFICATE", 40);
    for (let i = 0; i < 100; i++) ledger.penalize(`sybil-${i}`, "SYNC_TIMEOUT", 1);
    expect(ledger.counters().penalizedPeers).toBe(3);
    expect(ledger.penalty("big")).toBe(40);
    ledger.ban("first");
    now = 10;
    for (let i = 0; i < 100; i++) ledger.ban(`sybil-${i}`);
    expect(ledger.counters().bannedPeers).toBe(3);
    expect(ledger.isBanned("first")).toBe(false); // ended first, went first
    expect(ledger.isBanned("sybil-99")).toBe(true);
  });

  it("counts at most 64 reasons by name", () => {
    const ledger = new PeerLedger(options);
    for (let i = 0; i < 100; i++) ledger.penalize("p", `CODE_${i}`, 0);
    const { penalties } = ledger.counters();
    expect(Object.keys(penalties)).toHaveLength(65);
    expect(penalties["other"]).toBe(36);
  });

  it("gates banned peers, composed with another gater (a class's methods too)", async () => {
    const peer = (id: string) => ({ toString: () => id }) as PeerId;
    class Partition {
      readonly isolated = new Set(["cut"]);
      denyDialPeer(p: PeerId) {
        return this.isolated.has(p.toString());
      }
    }
    const ledger = new PeerLedger(options);
    const gater = banGater(ledger, new Partition());
    ledger.ban("banned");
    expect(await gater.denyDialPeer!(peer("banned"))).toBe(true);
    expect(await gater.denyDialPeer!(peer("cut"))).toBe(true);
    expect(await gater.denyDialPeer!(peer("fine"))).toBe(false);
    expect(await gater.denyInboundEncryptedConnection!(peer("banned"), {} as never)).toBe(true);
    expect(await gater.filterMultiaddrForPeer!(peer("fine"), {} as never)).toBe(true);
  });

  it("gives gossipsub parameters it accepts, with every topic of the chain scored", () => {
    const params = gossipScoreParams(CHAIN, new PeerLedger());
    expect(() => validatePeerScoreParams(params)).not.toThrow();
    expect(() => validatePeerScoreThresholds(scoreThresholds)).not.toThrow();
    expect(Object.keys(params.topics).sort()).toEqual(
      (["consensus", "evidence", "txs"] as const).map((k) => topicName(CHAIN, k)),
    );
  });
});

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A host that checks scores often and beats fast (gossipsub caches a score
 * for one heartbeat); the decisions are the same as at the defaults.
 */
async function host(): Promise<Host> {
  const h = await createHost((await newPeerKey()).key, CHAIN, {
    heartbeatMs: HEARTBEAT_MS,
    scoring: { ...defaultPeerScoreOptions, checkIntervalMs: 50 },
  });
  hosts.push(h);
  return h;
}

const HEARTBEAT_MS = 100;
const connected = (a: Host, b: Host) => a.getConnections(b.peerId).length > 0;

/**
 * `peer`'s gossipsub score at `at`, computed after everything so far: two
 * heartbeats from now, a score cached before now (valid one heartbeat) has
 * expired, so this reads a fresh one.
 */
async function scoreOf(at: Host, peer: Host): Promise<number> {
  await heartbeats(at, 2);
  // Gossipsub's own number (peerScore.score() takes the lower of it and the stream penalty).
  const pubsub = at.services.pubsub as typeof at.services.pubsub & {
    getScore(id: string): number;
  };
  return pubsub.getScore(peer.peerId.toString());
}

async function heartbeats(h: Host, n: number): Promise<void> {
  let seen = 0;
  const onBeat = () => void seen++;
  h.services.pubsub.addEventListener("gossipsub:heartbeat", onBeat);
  try {
    await until(() => seen >= n, "heartbeats");
  } finally {
    h.services.pubsub.removeEventListener("gossipsub:heartbeat", onBeat);
  }
}

/** Connects `from` to `to` and waits until each sees the other on `topics`. */
async function join(from: Host, to: Host, topics: readonly string[]): Promise<void> {
  await from.dial(to.getMultiaddrs()[0]!);
  for (const t of topics) {
    await until(
      () => from.services.pubsub.getSubscribers(t).some((p) => p.equals(to.peerId)),
      "peer subscribed",
    );
    await until(
      () => to.services.pubsub.getSubscribers(t).some((p) => p.equals(from.peerId)),
      "peer subscribed",
    );
  }
}

/** Binds `topic` with a validator that answers by the first byte, and counts its verdicts. */
function stubTopic(h: Host, topic: string, verdictOf: (data: Uint8Array) => GossipVerdict) {
  const verdicts: GossipVerdict[] = [];
  bindTopic<true>(h, topic, {
    async validate(data) {
      const verdict = verdictOf(data);
      verdicts.push(verdict);
      return { verdict, value: true };
    },
    onMessage: () => undefined,
  });
  return verdicts;
}

/** After it was hung up on: the banned peer's redial is refused, and so is ours to it. */
async function expectRefused(honest: Host, hostile: Host): Promise<void> {
  const before = honest.services.peerScore.counters().refused;
  await hostile.dial(honest.getMultiaddrs()[0]!).catch(() => undefined);
  await until(() => honest.services.peerScore.counters().refused > before, "redial refused");
  await until(() => !connected(honest, hostile), "no connection after the redial");
  await expect(honest.dial(hostile.getMultiaddrs()[0]!)).rejects.toThrow();
  expect(honest.services.peerScore.isBanned(hostile.peerId)).toBe(true);
}

/**
 * The real transaction gossip at `h`, over a mempool where account 1 has
 * `nonce`; `validated()` counts the batches its validator has finished.
 */
function txGossipAt(h: Host, nonce: number) {
  const accounts = new MemoryAccounts().set(addressOf(1), { balance: 10_000n, nonce });
  const mempool = new Mempool(
    {},
    {
      chainId: CHAIN,
      verifier: createNativeVerifier(),
      accounts,
      isKnown: () => false,
      now: () => NOW,
      nextValidators: () => [],
    },
  );
  let count = 0;
  const addMany = mempool.addMany.bind(mempool);
  mempool.addMany = async (...args) => {
    try {
      return await addMany(...args);
    } finally {
      count++;
    }
  };
  startTxGossip({ host: h, topic: txs, mempool, publish: () => undefined });
  return { mempool, validated: () => count };
}

const consensus = topicName(CHAIN, "consensus");
const txs = topicName(CHAIN, "txs");

describe("peer scoring between libp2p hosts", () => {
  it("graylists, disconnects and bans a peer publishing garbage on the consensus topic", async () => {
    const [honest, hostile] = [await host(), await host()];
    const verdicts = stubTopic(honest, consensus, (d) => (d[0] === 0xee ? "reject" : "accept"));
    stubTopic(hostile, consensus, () => "ignore");
    await join(hostile, honest, [consensus]);

    const garbage = (i: number) => Uint8Array.of(0xee, i, 0x13, 0x37);
    for (let i = 0; i < 3; i++) await hostile.services.pubsub.publish(consensus, garbage(i));
    await until(() => verdicts.length === 3, "three verdicts");
    // Three invalid messages: well below zero, not yet graylisted.
    const three = await scoreOf(honest, hostile);
    expect(three).toBeLessThan(scoreThresholds.publishThreshold);
    expect(three).toBeGreaterThanOrEqual(GRAYLIST);
    expect(connected(honest, hostile)).toBe(true);

    await hostile.services.pubsub.publish(consensus, garbage(3));
    await until(() => verdicts.length === 4, "fourth verdict");
    expect(await scoreOf(honest, hostile)).toBeLessThan(GRAYLIST);
    await until(() => !connected(honest, hostile), "hostile peer disconnected");
    expect(honest.services.peerScore.counters().disconnects).toBe(1);
    await expectRefused(honest, hostile);
  });

  it("does the same to a peer relaying well-formed transactions with bad signatures (real validator)", async () => {
    const [honest, hostile] = [await host(), await host()];
    const { mempool, validated } = txGossipAt(honest, 0);
    stubTopic(hostile, txs, () => "ignore");
    await join(hostile, honest, [txs]);

    const forged = (nonce: number) => {
      const bytes = signed(keyOf(1), nonce, transfer(addressOf(2), 1n)).bytes.slice();
      bytes[bytes.length - 1]! ^= 1; // the signature's last byte: decodes, does not verify
      return bytes;
    };
    for (let i = 0; i < 8; i++) {
      await hostile.services.pubsub.publish(txs, encodeTxBatch([forged(i)]));
      await until(() => validated() === i + 1, "batch validated");
      if ((await scoreOf(honest, hostile)) < GRAYLIST) break;
    }
    expect(validated()).toBe(7); // 7 × 7 × 0.5 × 2 = 49 > 40: see TOPIC_SCORE_PARAMS
    expect(mempool.size).toBe(0);
    await until(() => !connected(honest, hostile), "hostile peer disconnected");
    await expectRefused(honest, hostile);
  });

  it("keeps an honest peer's score ≥ 0 through valid, duplicate, stale and expired transactions", async () => {
    const [honest, peer] = [await host(), await host()];
    const { mempool, validated } = txGossipAt(honest, 5);
    const seen = stubTopic(peer, consensus, () => "accept");
    stubTopic(honest, consensus, (d) => (d[0] === 1 ? "ignore" : "accept"));
    stubTopic(peer, txs, () => "ignore");
    await join(peer, honest, [txs, consensus]);

    const tx = (nonce: number, at = NOW + 60_000) =>
      signed(keyOf(1), nonce, transfer(addressOf(2), 1n), { expiresAt: at }).bytes;
    const batches = [
      encodeTxBatch([tx(5), tx(6)]), // valid: accepted
      encodeTxBatch([tx(6), tx(5)]), // the same transactions again: ignored
      encodeTxBatch([tx(2)]), // a nonce already used (a node that is behind): ignored
      encodeTxBatch([tx(7, NOW - 1)]), // expired on our clock: ignored
      encodeTxBatch([tx(7), tx(2)]), // one new, one stale: accepted
    ];
    for (const [i, b] of batches.entries()) {
      await peer.services.pubsub.publish(txs, b);
      await until(() => validated() === i + 1, "batch validated");
    }
    // Old heights on consensus (ignored) and the same payload twice (a duplicate).
    for (let i = 0; i < 20; i++) await peer.services.pubsub.publish(consensus, Uint8Array.of(1, i));
    await peer.services.pubsub.publish(consensus, Uint8Array.of(2, 0));
    await peer.services.pubsub.publish(consensus, Uint8Array.of(2, 0));
    await until(() => mempool.size === 3, "three transactions admitted");
    expect(seen).toHaveLength(0);

    const counters = honest.services.peerScore.counters();
    expect(await scoreOf(honest, peer)).toBeGreaterThanOrEqual(0);
    expect(connected(honest, peer)).toBe(true);
    expect(honest.services.peerScore.counters()).toEqual(counters);
  });

  it("does not punish the sender when our own validator throws", async () => {
    const [honest, peer] = [await host(), await host()];
    let calls = 0;
    bindTopic<true>(honest, consensus, {
      async validate() {
        calls++;
        throw new Error("database closed");
      },
      onMessage: () => undefined,
    });
    stubTopic(peer, consensus, () => "ignore");
    await join(peer, honest, [consensus]);
    for (let i = 0; i < 10; i++) await peer.services.pubsub.publish(consensus, Uint8Array.of(i));
    await until(() => calls === 10, "ten validations");
    expect(await scoreOf(honest, peer)).toBeGreaterThanOrEqual(0);
    expect(connected(honest, peer)).toBe(true);
  });

  it("disconnects and bans a peer that stream protocols report, at the third invalid reply", async () => {
    const [honest, hostile] = [await host(), await host()];
    stubTopic(honest, consensus, () => "accept");
    stubTopic(hostile, consensus, () => "accept");
    await join(hostile, honest, [consensus]);
    const misbehaved = (code: string) => honest.services.peerScore.penalize(hostile.peerId, code);

    misbehaved("SYNC_BAD_CERTIFICATE");
    misbehaved("SYNC_BAD_BLOCK");
    expect(honest.services.peerScore.score(hostile.peerId)).toBeGreaterThanOrEqual(GRAYLIST);
    // Gossipsub sees it too (the application score): no gossip to it any more.
    expect(await scoreOf(honest, hostile)).toBeLessThan(scoreThresholds.gossipThreshold);
    expect(connected(honest, hostile)).toBe(true);

    misbehaved("SYNC_BAD_BLOCK");
    await until(() => !connected(honest, hostile), "hostile peer disconnected");
    expect(honest.services.peerScore.counters().penalties).toEqual({
      SYNC_BAD_CERTIFICATE: 1,
      SYNC_BAD_BLOCK: 2,
    });
    await expectRefused(honest, hostile);
  });
});
