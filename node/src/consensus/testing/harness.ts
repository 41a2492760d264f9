/**
 * Test harness for the consensus engine (tests only). It plays the driver for
 * several engines in memory: answers `request-value`, signs their proposals
 * and votes and feeds them back, routes messages between engines (in order,
 * or in a seeded random order with drops and repeats), relays them like
 * gossip, and runs their timers on a virtual clock. Byzantine nodes run a
 * real engine behind a driver that equivocates: each message it signs gets a
 * conflicting twin, and each peer gets one, the other, both or neither.
 * Twins (twins.ts) are the other way to be Byzantine: a validator's key runs
 * in two honest engines, and a `link` filter decides who hears whom.
 * Nothing here sleeps or reads the real clock.
 */
import {
  createVerifier,
  equalBytes,
  nobleBackend,
  type Proposal,
  proposalDigest,
  SecretKey,
  type SignatureVerifier,
  type SignedProposal,
  type SignedVote,
  sha256,
  taggedHash,
  toHex,
  utf8,
  type ValidatorSet,
  type Vote,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import {
  ConsensusEngine,
  type EngineAction,
  type EngineEvent,
  type EngineInit,
  type Step,
  type TimeoutConfig,
} from "../engine.ts";

export const CHAIN_ID = "edgeledger-test";

/** How signatures are made: real Ed25519 where a certificate is checked, cheap fakes in the fuzz. */
export interface SignatureScheme {
  sign(key: SecretKey, digest: Uint8Array): Uint8Array;
  readonly verifier: SignatureVerifier;
}

export const realSignatures: SignatureScheme = {
  sign: (key, digest) => key.sign(digest),
  verifier: createVerifier(nobleBackend),
};

/** A 64-byte stand-in bound to (public key, digest); checked by its own verifier. */
function fakeSignature(publicKey: Uint8Array, digest: Uint8Array): Uint8Array {
  const half = taggedHash("edgeledger-test/fake-signature", publicKey, digest);
  const signature = new Uint8Array(64);
  signature.set(half, 0);
  signature.set(half, 32);
  return signature;
}

export const fakeSignatures: SignatureScheme = {
  sign: (key, digest) => fakeSignature(key.publicKey, digest),
  verifier: {
    backend: "fake",
    verify: async (signature, message, publicKey) =>
      toHex(signature) === toHex(fakeSignature(publicKey, message)),
    verifySync: (signature, message, publicKey) =>
      toHex(signature) === toHex(fakeSignature(publicKey, message)),
  },
};

export function blockHash(label: string): Uint8Array {
  return sha256(utf8(label));
}

/** Deterministic keys, sorted by public key so that keys[i] is validator i of the set. */
export function makeValidators(
  count: number,
  powers?: readonly bigint[],
): { validators: ValidatorSet; keys: SecretKey[] } {
  const keys = Array.from({ length: count }, (_, i) =>
    SecretKey.fromSeed(sha256(utf8(`consensus-test-key-${i}`))),
  ).sort((a, b) => (toHex(a.publicKey) < toHex(b.publicKey) ? -1 : 1));
  const validators = keys.map((key, i) => ({
    publicKey: key.publicKey,
    power: powers?.[i] ?? 1n,
  }));
  return { validators, keys };
}

export function observerKey(i = 0): SecretKey {
  return SecretKey.fromSeed(sha256(utf8(`consensus-test-observer-${i}`)));
}

export function signVote(scheme: SignatureScheme, key: SecretKey, vote: Vote): SignedVote {
  return { vote, signature: scheme.sign(key, voteDigest(CHAIN_ID, vote)) };
}

export function signProposal(
  scheme: SignatureScheme,
  key: SecretKey,
  proposal: Proposal,
): SignedProposal {
  return { proposal, signature: scheme.sign(key, proposalDigest(CHAIN_ID, proposal)) };
}

/** Seeded PRNG (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Decide = Extract<EngineAction, { type: "decide" }>;
export type Evidence = Extract<EngineAction, { type: "evidence" }>;

export interface SimNode {
  /** Validators are 0..n-1 (their index in the set), observers follow, then twins. */
  readonly id: number;
  /** The index in the set of the key it runs (null for an observer). */
  readonly validator: number | null;
  readonly key: SecretKey | null;
  readonly engine: ConsensusEngine;
  readonly byzantine: boolean;
  /** Its key also runs in another instance (SimulationOptions.twins): not an honest validator. */
  readonly twinned: boolean;
  /** Down: it neither sends nor receives (messages to it are lost). */
  offline: boolean;
  decision: Decide | null;
  readonly evidence: Evidence[];
  /** Every vote this node's driver signed, by "type/round". */
  readonly signed: Map<string, Vote>;
  readonly proposedRounds: Set<number>;
}

export interface SimulationOptions {
  readonly height?: number;
  readonly validators: number;
  readonly powers?: readonly bigint[];
  readonly observers?: number;
  /** Validators that never start and whose links are down. */
  readonly offline?: readonly number[];
  /** Validators whose driver equivocates: it also signs a conflicting version of each message. */
  readonly byzantine?: readonly number[];
  /**
   * Validators whose key runs in a second engine (a twin, added after the
   * observers). Each instance is an honest engine with its own driver and
   * signs what its engine asks, so together they equivocate.
   */
  readonly twins?: readonly number[];
  readonly scheme?: SignatureScheme;
  readonly timeouts?: Partial<TimeoutConfig>;
  /** Seed for the Byzantine drivers' choices. */
  readonly seed?: number;
  /** Whether a block is valid; one answer for every honest node, as execution is deterministic. */
  readonly validity?: (proposal: Proposal) => boolean;
  /** The block a proposer builds. */
  readonly value?: (node: number, round: number) => Uint8Array;
  /** What a validator restarts with (the signing guard's resume), by node id. */
  readonly resume?: (node: number) => EngineInit["resume"] | undefined;
}

interface Envelope {
  readonly to: number;
  readonly event: EngineEvent;
  /** Fed back by a node's own driver: never lost. */
  readonly local: boolean;
}

interface Timer {
  readonly node: number;
  readonly step: Step;
  readonly round: number;
  readonly at: number;
  readonly seq: number;
}

export class Simulation {
  readonly height: number;
  readonly validators: ValidatorSet;
  readonly keys: readonly SecretKey[];
  readonly nodes: readonly SimNode[];
  readonly scheme: SignatureScheme;
  now = 0;
  /**
   * How often an honest node relays what it receives. 1 is gossip as the
   * paper assumes it (a message one correct node has, all get); lower values
   * keep the network disordered for longer in the fuzz.
   */
  relayRate = 1;
  /**
   * Which links carry a message (a partition); null: all do. Applied to every
   * message put in flight (sends, relays, repeats, redelivery), never to what
   * a driver feeds its own engine.
   */
  link: ((from: number, to: number, event: EngineEvent) => boolean) | null = null;
  pending: Envelope[] = [];
  timers: Timer[] = [];
  /**
   * Every distinct message put on the network, with its origin. Gossip relays
   * what any honest node received to all (the paper's assumption: a message
   * one correct process gets, every correct process eventually gets), so
   * repeats and the "GST" re-delivery send these to everyone.
   */
  readonly gossip: { readonly from: number; readonly event: EngineEvent }[] = [];
  readonly #validity: (proposal: Proposal) => boolean;
  readonly #value: (node: number, round: number) => Uint8Array;
  readonly #random: () => number;
  readonly #knownValues: Uint8Array[] = [];
  #seq = 0;
  /** Which nodes have relayed which message. */
  readonly #relayed = new Map<EngineEvent, Set<number>>();

  constructor(options: SimulationOptions) {
    this.height = options.height ?? 1;
    const { validators, keys } = makeValidators(options.validators, options.powers);
    this.validators = validators;
    this.keys = keys;
    this.scheme = options.scheme ?? fakeSignatures;
    this.#validity = options.validity ?? (() => true);
    this.#value = options.value ?? ((node, round) => blockHash(`block-${node}-${round}`));
    this.#random = seededRandom(options.seed ?? 1);
    const offline = new Set(options.offline ?? []);
    const byzantine = new Set(options.byzantine ?? []);
    const twins = options.twins ?? [];
    const nodes: SimNode[] = [];
    const count = options.validators + (options.observers ?? 0);
    for (let id = 0; id < count + twins.length; id++) {
      const validator = id < options.validators ? id : id >= count ? twins[id - count]! : null;
      const key = validator === null ? null : keys[validator]!;
      nodes.push({
        id,
        validator,
        key,
        engine: new ConsensusEngine({
          chainId: CHAIN_ID,
          height: this.height,
          validators,
          self: key?.publicKey ?? null,
          ...(options.timeouts && { timeouts: options.timeouts }),
          ...(options.resume?.(id) && { resume: options.resume(id)! }),
        }),
        byzantine: byzantine.has(id),
        twinned: validator !== null && twins.includes(validator),
        offline: offline.has(id),
        decision: null,
        evidence: [],
        signed: new Map(),
        proposedRounds: new Set(),
      });
    }
    this.nodes = nodes;
  }

  get online(): SimNode[] {
    return this.nodes.filter((n) => !n.offline);
  }

  get honest(): SimNode[] {
    return this.nodes.filter((n) => !n.offline && !n.byzantine && !n.twinned);
  }

  start(): void {
    for (const node of this.online) this.#handle(node, { type: "start" });
  }

  /** Delivers every pending message in order until none is left. */
  runUntilQuiet(limit = 1_000_000): void {
    for (let i = 0; this.pending.length > 0; i++) {
      if (i >= limit) throw new Error("message storm: the network never went quiet");
      this.#deliver(this.pending.shift()!);
    }
  }

  /** Fires the earliest timer, moving the clock to it. */
  fireNextTimer(): boolean {
    if (this.timers.length === 0) return false;
    let next = 0;
    for (let i = 1; i < this.timers.length; i++) {
      const t = this.timers[i]!;
      const best = this.timers[next]!;
      if (t.at < best.at || (t.at === best.at && t.seq < best.seq)) next = i;
    }
    this.#fire(this.timers.splice(next, 1)[0]!);
    return true;
  }

  /**
   * A synchronous network: messages arrive before any timer fires. Runs until
   * `until()` holds (true) or `maxTimers` timers have fired (false).
   */
  runSynchronously(until: () => boolean, maxTimers = 10_000): boolean {
    for (let fired = 0; ; fired++) {
      this.runUntilQuiet();
      if (until()) return true;
      if (fired >= maxTimers || !this.fireNextTimer()) return false;
    }
  }

  /**
   * One asynchronous step, chosen with `random`: with probability `timerRate`
   * (or when nothing is in flight) a random pending timer fires, any of them,
   * not the earliest, as no timing is assumed; with probability `repeatRate`
   * (or when nothing is in flight nor pending) gossip repeats a random message
   * sent earlier; otherwise a random message in flight is delivered, or lost
   * with probability `dropRate`. Returns false only when nothing can happen.
   */
  stepRandomly(
    random: () => number,
    { dropRate = 0.2, timerRate = 0.05, repeatRate = 0.05 } = {},
  ): boolean {
    const idle = this.pending.length === 0;
    if (this.timers.length > 0 && (idle || random() < timerRate)) {
      const [timer] = this.timers.splice(Math.floor(random() * this.timers.length), 1);
      this.#fire(timer!);
      return true;
    }
    if (this.gossip.length > 0 && (idle || random() < repeatRate)) {
      const { from, event } = this.gossip[Math.floor(random() * this.gossip.length)]!;
      this.#enqueue(from, Math.floor(random() * this.nodes.length), event);
      return true;
    }
    if (idle) return false;
    const [envelope] = this.pending.splice(Math.floor(random() * this.pending.length), 1);
    if (!envelope!.local && random() < dropRate) return true;
    this.#deliver(envelope!);
    return true;
  }

  /** After "GST": every message ever sent reaches every node (reliable gossip catches up). */
  redeliverEverything(): void {
    for (const { from, event } of this.gossip) {
      for (const to of this.nodes) {
        if (to.id !== from) this.#enqueue(from, to.id, event);
      }
    }
  }

  #fire(timer: Timer): void {
    this.now = Math.max(this.now, timer.at);
    this.#handle(this.nodes[timer.node]!, {
      type: "timeout",
      step: timer.step,
      round: timer.round,
    });
  }

  #deliver(envelope: Envelope): void {
    const node = this.nodes[envelope.to]!;
    // A node that is down loses what reaches it; redeliverEverything() can repeat it later.
    if (node.offline) return;
    // Gossip: an honest node passes on what it receives, once, to every other node
    // (a Byzantine node's "send to some peers only" reaches the rest through them).
    if (!envelope.local && !node.byzantine && this.#random() < this.relayRate) {
      let relayed = this.#relayed.get(envelope.event);
      if (!relayed) {
        relayed = new Set();
        this.#relayed.set(envelope.event, relayed);
      }
      if (!relayed.has(node.id)) {
        relayed.add(node.id);
        for (const to of this.nodes) {
          if (to.id !== node.id) this.#enqueue(node.id, to.id, envelope.event);
        }
      }
    }
    // An equivocator's engine keeps to the story it tells itself: the twin
    // votes it sent others, relayed back, would lock it on them (engine.ts
    // takes its key's precommits as its own lock), which makes it a milder
    // adversary than the one these tests are about.
    if (node.byzantine && !envelope.local && this.#ownVote(node, envelope.event)) return;
    this.#handle(node, envelope.event);
  }

  #ownVote(node: SimNode, event: EngineEvent): boolean {
    return (
      event.type === "vote" &&
      node.key !== null &&
      equalBytes(event.vote.vote.validator, node.key.publicKey)
    );
  }

  /** Hands `event` straight to one node, its actions handled like any other. */
  inject(id: number, event: EngineEvent): void {
    this.#handle(this.nodes[id]!, event);
  }

  /** Brings a node that was down up: it starts, and sees what is sent from now on. */
  bringUp(id: number): void {
    const node = this.nodes[id]!;
    node.offline = false;
    this.#handle(node, { type: "start" });
  }

  #handle(node: SimNode, event: EngineEvent): void {
    if (node.offline) return;
    for (const action of node.engine.handle(event)) this.#act(node, action);
  }

  /** The driver's side of each action. */
  #act(node: SimNode, action: EngineAction): void {
    switch (action.type) {
      case "request-value":
        this.#send(
          node,
          node.id,
          { type: "value", round: action.round, blockHash: this.#value(node.id, action.round) },
          true,
        );
        break;
      case "propose":
        this.#broadcastProposal(node, action.proposal);
        break;
      case "vote":
        this.#broadcastVote(node, action.vote);
        break;
      case "schedule-timeout":
        this.timers.push({
          node: node.id,
          step: action.step,
          round: action.round,
          at: this.now + action.delayMs,
          seq: this.#seq++,
        });
        break;
      case "decide":
        if (node.decision) throw new Error(`node ${node.id} decided twice`);
        node.decision = action;
        break;
      case "evidence":
        node.evidence.push(action);
        break;
    }
  }

  #broadcastProposal(node: SimNode, proposal: Proposal): void {
    const key = node.key!;
    if (!node.byzantine) {
      if (node.proposedRounds.has(proposal.round)) {
        throw new Error(
          `honest node ${node.id} asked to sign two proposals for round ${proposal.round}`,
        );
      }
      node.proposedRounds.add(proposal.round);
    }
    this.#knownValues.push(proposal.blockHash);
    const toEvent = (p: Proposal): EngineEvent => ({
      type: "proposal",
      proposal: signProposal(this.scheme, key, p),
      valid: this.#validity(p),
    });
    const event = toEvent(proposal);
    this.#send(node, node.id, event, true);
    if (!node.byzantine) {
      this.#broadcast(node, () => [event]);
      return;
    }
    const other = blockHash(`byzantine-${node.id}-${proposal.round}-${this.#seq++}`);
    this.#knownValues.push(other);
    const twin = toEvent({ ...proposal, blockHash: other });
    this.#broadcast(node, () => this.#either(event, twin));
  }

  #broadcastVote(node: SimNode, vote: Vote): void {
    const key = node.key!;
    if (!node.byzantine) {
      // The engine must never ask to sign two different votes for one (type, round):
      // a real driver's signer would refuse, and that would be a bug in the engine.
      const slot = `${vote.type}/${vote.round}`;
      const earlier = node.signed.get(slot);
      if (earlier && !sameValue(earlier.blockHash, vote.blockHash)) {
        throw new Error(`honest node ${node.id} asked to sign two different ${slot} votes`);
      }
      node.signed.set(slot, vote);
    }
    const event: EngineEvent = { type: "vote", vote: signVote(this.scheme, key, vote) };
    this.#send(node, node.id, event, true);
    if (!node.byzantine) {
      this.#broadcast(node, () => [event]);
      return;
    }
    const choices: (Uint8Array | null)[] = [null, ...this.#knownValues].filter(
      (v) => !sameValue(v, vote.blockHash),
    );
    const otherValue = choices[Math.floor(this.#random() * choices.length)] ?? null;
    const twin: EngineEvent = {
      type: "vote",
      vote: signVote(this.scheme, key, { ...vote, blockHash: otherValue }),
    };
    this.#broadcast(node, () => this.#either(event, twin));
  }

  /** What an equivocator sends one peer: one version, the other, both, or nothing. */
  #either(a: EngineEvent, b: EngineEvent): EngineEvent[] {
    const pick = Math.floor(this.#random() * 4);
    return [[a], [b], [a, b], []][pick]!;
  }

  /** Sends each peer the events `eventsFor` picks for it (an equivocator picks per peer). */
  #broadcast(from: SimNode, eventsFor: () => EngineEvent[]): void {
    if (from.offline) return;
    const logged = new Set<EngineEvent>();
    for (const to of this.nodes) {
      if (to.id === from.id) continue;
      for (const event of eventsFor()) {
        this.#send(from, to.id, event, false);
        if (!logged.has(event)) {
          logged.add(event);
          this.gossip.push({ from: from.id, event });
        }
      }
    }
  }

  #send(from: SimNode, to: number, event: EngineEvent, local: boolean): void {
    if (from.offline) return;
    if (local) this.pending.push({ to, event, local });
    else this.#enqueue(from.id, to, event);
  }

  /** Puts a message in flight on the link from → to, unless `link` cuts it. */
  #enqueue(from: number, to: number, event: EngineEvent): void {
    if (this.link && !this.link(from, to, event)) return;
    this.pending.push({ to, event, local: false });
  }
}

export function sameValue(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return toHex(a) === toHex(b);
}
