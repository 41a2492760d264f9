/**
 * The consensus driver: the I/O around the pure engine (engine.ts). It runs
 * one engine per height, answers its actions — builds blocks, signs through
 * the signing guard, arms timers, commits decided blocks — and feeds the
 * results back as events, one at a time. The network (issue 4) plugs in as
 * `Broadcaster`; alone, a validator's own messages are its only input, and a
 * one-validator set decides on them (n = 1 is just the n = 3f + 1 case).
 */
import {
  type Block,
  type ConsensusMessage,
  type DuplicateVoteEvidence,
  duplicateVoteEvidence,
  equalBytes,
  type FinalityCertificate,
  MAX_VALIDATORS,
  type SignedProposal,
  type SignedVote,
  toHex,
} from "@edgeledger/sdk/protocol";
import type { Logger } from "pino";
import type { BuiltBlock, Chain, Execution } from "../chain/chain.ts";
import type { TxRecord } from "../db/database.ts";
import type { Mempool } from "../mempool/mempool.ts";
import {
  ConsensusEngine,
  type EngineAction,
  type EngineEvent,
  type TimeoutConfig,
} from "./engine.ts";
import type { SigningGuard } from "./signingGuard.ts";

/** Bound on the messages of one height kept for peers that missed them. */
const MAX_SEEN_MESSAGES = 8 * MAX_VALIDATORS;

function heightOf(m: ConsensusMessage): number {
  return m.kind === "vote" ? m.vote.vote.height : m.proposal.proposal.height;
}

export interface BlockOptions {
  /** Most transactions per block. */
  readonly maxTxs: number;
  /** Most encoded transaction bytes per block. */
  readonly maxBytes: number;
  /** After the first pending transaction arrives, wait this long for more before proposing (ms). */
  readonly batchDelayMs: number;
  /** With nothing to include, propose an empty block this often (ms), so time and liveness show. */
  readonly heartbeatMs: number;
}

export const defaultBlockOptions: BlockOptions = {
  maxTxs: 5000,
  maxBytes: 2 * 1024 * 1024,
  batchDelayMs: 20,
  heartbeatMs: 60_000,
};

export interface Broadcaster {
  /** `polVotes`: the prevotes of the polka that justifies re-proposing (see ConsensusMessage). */
  proposal(p: SignedProposal, block: Block, polVotes: readonly SignedVote[]): void;
  vote(v: SignedVote): void;
}

export interface DriverDeps {
  readonly chain: Chain;
  readonly mempool: Mempool;
  /** null on a node that does not validate. */
  readonly guard: SigningGuard | null;
  readonly log: Logger;
  readonly now: () => number;
  readonly broadcast?: Broadcaster;
  /** Checks every transaction signature of a block proposed by someone else. */
  readonly verifyBlockSignatures?: (blocks: readonly Block[]) => Promise<boolean>;
  readonly timeouts?: Partial<TimeoutConfig>;
  /** Equivocation evidence: what to record in blocks we propose, and where to report what the engine finds. */
  readonly evidence?: {
    pending(): readonly DuplicateVoteEvidence[];
    found(e: DuplicateVoteEvidence): void;
    unrecordable(items: readonly DuplicateVoteEvidence[]): void;
  };
}

export class ConsensusDriver {
  readonly #options: BlockOptions;
  readonly #deps: DriverDeps;
  #engine: ConsensusEngine | null = null;
  #height = 0;
  readonly #executions = new Map<
    string,
    { exec: Execution; dropped: { hash: Uint8Array; record: TxRecord }[] }
  >();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #queue: Promise<void> = Promise.resolve();
  #stopped = true;
  /** Ends the current wait for work (see #sleep). */
  #wake: (() => void) | null = null;
  /** Ends the current wait of any kind (see #sleep). */
  #interrupt: (() => void) | null = null;
  #unsubscribe: (() => void) | null = null;
  /** True while this driver commits a block it decided (so its own head event is not news). */
  #ownCommit = false;
  /** Called when a block the engine decided was never seen in full (block sync fetches it). */
  onMissingBlock: (() => void) | null = null;
  /** Peers' messages for this height or the next, until the engine for their height runs. */
  #inbox: ConsensusMessage[] = [];

  constructor(options: Partial<BlockOptions>, deps: DriverDeps) {
    this.#options = { ...defaultBlockOptions, ...options };
    this.#deps = deps;
  }

  start(): void {
    this.#stopped = false;
    const offAdd = this.#deps.mempool.onAdd(() => this.#wake?.());
    // Block sync may commit the height we are working on: then move on.
    const offHead = this.#deps.chain.onHead((head) => {
      if (this.#ownCommit || head.height < this.#height) return;
      this.#abandonHeight();
    });
    this.#unsubscribe = () => {
      offAdd();
      offHead();
    };
    void this.#enqueue(() => this.#nextHeight());
  }

  /** Stops timers and waits for the event in progress (e.g. a commit) to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#interrupt?.();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#queue;
  }

  /** Timer events, and anything already in engine form, enter here. */
  deliver(event: EngineEvent): void {
    void this.#enqueue(async () => this.#handle(event));
  }

  /**
   * A peer's proposal or vote, already decoded and signature-checked by the
   * gossip validator. Kept until the engine for its height runs; a message
   * for the height we are waiting to start wakes us (someone else started).
   */
  receive(message: ConsensusMessage): void {
    const height = heightOf(message);
    if (height < this.#height || height > this.#height + 1) return;
    this.#inbox.push(message);
    if (height !== this.#height) return;
    if (this.#engine) void this.#enqueue(() => this.#drainInbox());
    else this.#wake?.();
  }

  /** Feeds the engine every inbox message for its height; drops older ones. */
  async #drainInbox(): Promise<void> {
    const engine = this.#engine;
    if (!engine) return;
    const now = this.#inbox.filter((m) => heightOf(m) === this.#height);
    this.#inbox = this.#inbox.filter((m) => heightOf(m) > this.#height);
    for (const m of now) {
      if (this.#engine !== engine) return;
      this.#see(m);
      if (m.kind === "vote") {
        await this.#handle({ type: "vote", vote: m.vote });
        continue;
      }
      // The polka's prevotes first, so the engine can see why the block may be voted for.
      for (const vote of m.polVotes) await this.#handle({ type: "vote", vote });
      const valid = await this.#validate(m.block, m.proposal.proposal.blockHash);
      await this.#handle({ type: "proposal", proposal: m.proposal, valid });
    }
  }

  /** Executes a peer's proposed block on our state; true if it is valid. */
  async #validate(block: Block, claimedHash: Uint8Array): Promise<boolean> {
    const { chain, verifyBlockSignatures, log } = this.#deps;
    try {
      const exec = await chain.executeBlock(block);
      if (!equalBytes(exec.blockHash, claimedHash)) return false;
      if (verifyBlockSignatures && !(await verifyBlockSignatures([block]))) return false;
      this.#executions.set(toHex(exec.blockHash), { exec, dropped: [] });
      return true;
    } catch (err) {
      log.warn({ err, height: block.header.height }, "proposed block is invalid");
      return false;
    }
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      if (this.#stopped) return;
      try {
        await task();
      } catch (err) {
        this.#deps.log.error({ err }, "consensus step failed");
      }
    });
    return this.#queue;
  }

  /** Drops the current height's engine and timers and starts the next one after the head. */
  #abandonHeight(): void {
    this.#engine = null;
    this.#interrupt?.();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    void this.#enqueue(() => this.#nextHeight());
  }

  async #nextHeight(): Promise<void> {
    const { chain } = this.#deps;
    if (this.#engine && this.#height === chain.head.height + 1) return; // already running it
    this.#height = chain.head.height + 1;
    this.#executions.clear();
    this.#prevotes = new Map();
    this.#seen = [];
    await this.#waitForWork();
    if (this.#stopped) return;
    // The head moved while we waited (block sync): start over at the new height.
    if (chain.head.height + 1 !== this.#height) return this.#nextHeight();
    const validators = chain.validatorsAt(this.#height);
    const key = this.#deps.guard?.publicKey;
    // Validating is per height: a key voted in (or out) takes part from the height its set signs.
    const member = key !== undefined && validators.some((v) => equalBytes(v.publicKey, key));
    // After a restart mid-height: the round we were in and our lock (see EngineInit.resume).
    const resume = member ? this.#deps.guard?.resume(this.#height) : null;
    this.#engine = new ConsensusEngine({
      chainId: chain.chainId,
      height: this.#height,
      validators,
      self: member ? key : null,
      ...(resume && { resume }),
      ...(this.#deps.timeouts && { timeouts: this.#deps.timeouts }),
    });
    await this.#handle({ type: "start" });
    await this.#drainInbox();
  }

  /** Resolves when there is something to propose, the heartbeat is due, or we stop. */
  async #waitForWork(): Promise<void> {
    const { mempool, chain, now } = this.#deps;
    const heartbeatAt = chain.head.header.time + this.#options.heartbeatMs;
    const othersStarted = () => this.#inbox.some((m) => heightOf(m) === this.#height);
    while (!this.#stopped && mempool.size === 0 && !othersStarted() && now() < heartbeatAt) {
      await this.#sleep(Math.max(1, heartbeatAt - now()), true);
    }
    // Gathering a batch: more transactions do not cut this short, a new head or stop does.
    if (mempool.size > 0 && this.#options.batchDelayMs > 0) {
      await this.#sleep(this.#options.batchDelayMs, false);
    }
  }

  /**
   * Waits `ms`, or less: #interrupt (the head moved, stop) always ends it
   * early, and #wake (new work, a peer's message) too if `onWork`. Every wait
   * inside the queue must be interruptible this way, because #abandonHeight
   * and stop clear all timers: a plain timer promise would then never
   * settle, and the queue, so consensus, would stall for good (the
   * validator-set scenario caught a node whose batch wait hung this way).
   */
  #sleep(ms: number, onWork: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.#timers.delete(t);
        if (this.#wake === done) this.#wake = null;
        if (this.#interrupt === done) this.#interrupt = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#timers.add(t);
      this.#interrupt = done;
      this.#wake = onWork ? done : null;
    });
  }

  async #handle(event: EngineEvent): Promise<void> {
    const engine = this.#engine;
    if (!engine) return;
    this.#remember(event);
    const pending: EngineAction[] = [...engine.handle(event)];
    while (pending.length > 0 && !this.#stopped) {
      const action = pending.shift()!;
      const next = await this.#act(action);
      if (next && this.#engine === engine) {
        this.#remember(next);
        pending.push(...engine.handle(next));
      }
    }
  }

  /**
   * Every signed proposal and vote of this height we have (ours and peers'),
   * served to peers that missed them (block sync's catch-up): gossip only
   * reaches peers connected when a message is sent, and the algorithm needs
   * every message to reach every honest validator eventually.
   */
  #seen: ConsensusMessage[] = [];

  messagesFor(height: number): readonly ConsensusMessage[] {
    return height === this.#height ? this.#seen : [];
  }

  #see(message: ConsensusMessage): void {
    if (this.#seen.length < MAX_SEEN_MESSAGES) this.#seen.push(message);
  }

  /** Prevotes of this height by round, to justify a re-proposal to peers that missed them. */
  #prevotes = new Map<number, SignedVote[]>();

  #remember(event: EngineEvent): void {
    if (event.type !== "vote" || event.vote.vote.type !== "prevote") return;
    const round = event.vote.vote.round;
    const list = this.#prevotes.get(round) ?? [];
    if (list.length < 4 * MAX_VALIDATORS) list.push(event.vote);
    this.#prevotes.set(round, list);
  }

  #polVotes(round: number | null, blockHash: Uint8Array): SignedVote[] {
    if (round === null) return [];
    return (this.#prevotes.get(round) ?? []).filter(
      (v) => v.vote.blockHash !== null && equalBytes(v.vote.blockHash, blockHash),
    );
  }

  /** Carries out one action; returns the event it produces for the engine, if any. */
  async #act(action: EngineAction): Promise<EngineEvent | null> {
    const { guard, broadcast, log } = this.#deps;
    if (log.isLevelEnabled("debug")) {
      const detail =
        action.type === "vote"
          ? {
              type: action.vote.type,
              round: action.vote.round,
              block: action.vote.blockHash && toHex(action.vote.blockHash).slice(0, 12),
            }
          : action.type === "propose"
            ? {
                round: action.proposal.round,
                polRound: action.proposal.polRound,
                block: toHex(action.proposal.blockHash).slice(0, 12),
              }
            : "round" in action
              ? { round: action.round }
              : {};
      log.debug({ height: this.#height, action: action.type, ...detail }, "consensus action");
    }
    switch (action.type) {
      case "request-value": {
        const built = await this.#buildOrReuse();
        return { type: "value", round: action.round, blockHash: built.blockHash };
      }
      case "propose": {
        if (!guard) return null;
        const entry = this.#executions.get(toHex(action.proposal.blockHash));
        if (!entry) return null;
        const signature = await guard.signProposal(action.proposal, entry.exec.blockBytes);
        if (!signature) {
          log.warn(
            { height: action.proposal.height, round: action.proposal.round },
            "signing guard refused a proposal",
          );
          return null;
        }
        const signed = { proposal: action.proposal, signature };
        const polVotes = this.#polVotes(action.proposal.polRound, action.proposal.blockHash);
        this.#see({ kind: "proposal", proposal: signed, block: entry.exec.block, polVotes });
        broadcast?.proposal(signed, entry.exec.block, polVotes);
        return { type: "proposal", proposal: signed, valid: true };
      }
      case "vote": {
        if (!guard) return null;
        const signature = await guard.signVote(action.vote);
        if (!signature) {
          log.warn(
            {
              vote: {
                ...action.vote,
                blockHash: action.vote.blockHash && toHex(action.vote.blockHash),
              },
            },
            "signing guard refused a vote",
          );
          return null;
        }
        const signed = { vote: action.vote, signature };
        this.#see({ kind: "vote", vote: signed });
        broadcast?.vote(signed);
        return { type: "vote", vote: signed };
      }
      case "schedule-timeout": {
        const t = setTimeout(() => {
          this.#timers.delete(t);
          this.deliver({ type: "timeout", step: action.step, round: action.round });
        }, action.delayMs);
        this.#timers.add(t);
        return null;
      }
      case "decide":
        await this.#commit(action.blockHash, action.certificate);
        return null;
      case "evidence":
        log.warn({ validator: toHex(action.first.vote.validator) }, "equivocation detected");
        this.#deps.evidence?.found(duplicateVoteEvidence(action.first, action.second));
        return null;
    }
  }

  /** The block for this height: the one already proposed before a restart, or a new one. */
  async #buildOrReuse(): Promise<Execution> {
    const { chain, mempool, guard, now } = this.#deps;
    const previous = guard?.proposedBlock(this.#height);
    if (previous) {
      const exec = await chain.executeBlock(previous);
      this.#executions.set(toHex(exec.blockHash), { exec, dropped: [] });
      return exec;
    }
    const candidates = await mempool.reap({
      maxTxs: this.#options.maxTxs,
      maxBytes: this.#options.maxBytes,
    });
    const evidence = this.#deps.evidence;
    const offered = evidence?.pending() ?? [];
    const built: BuiltBlock = await chain.buildBlock(
      candidates,
      chain.nextTime(now()),
      guard?.publicKey ?? new Uint8Array(32),
      offered,
    );
    if (built.refusedEvidence.length > 0) evidence?.unrecordable(built.refusedEvidence);
    const dropped = built.failed.map((f) => {
      mempool.drop(f.tx, f.error.code, f.error.shortMessage);
      return {
        hash: f.tx.hash,
        record: {
          status: "dropped",
          code: f.error.code,
          message: f.error.shortMessage,
          tx: toHex(f.tx.bytes),
        } as TxRecord,
      };
    });
    this.#executions.set(toHex(built.blockHash), { exec: built, dropped });
    return built;
  }

  async #commit(blockHash: Uint8Array, certificate: FinalityCertificate): Promise<void> {
    const entry = this.#executions.get(toHex(blockHash));
    if (!entry || !equalBytes(entry.exec.blockHash, blockHash)) {
      // Decided a block we never saw in full: block sync fetches it (issue 4).
      this.#deps.log.warn(
        { height: this.#height, blockHash: toHex(blockHash) },
        "decided a block not seen in full; syncing it",
      );
      this.onMissingBlock?.();
      return;
    }
    const { chain } = this.#deps;
    // Timers belong to this height's rounds; none may fire into the next height.
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#ownCommit = true;
    try {
      await chain.commit(entry.exec, certificate, entry.dropped);
    } catch (err) {
      // Block sync committed this height first; our block is the same final block.
      if (chain.head.height < entry.exec.block.header.height) throw err;
    } finally {
      this.#ownCommit = false;
    }
    this.#engine = null;
    void this.#enqueue(() => this.#nextHeight());
  }
}
