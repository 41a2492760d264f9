/**
 * The consensus driver: the I/O around the pure engine (engine.ts). It runs
 * one engine per height, answers its actions — builds blocks, signs through
 * the signing guard, arms timers, commits decided blocks — and feeds the
 * results back as events, one at a time. The network (issue 4) plugs in as
 * `Broadcaster`; alone, a validator's own messages are its only input, and a
 * one-validator set decides on them (n = 1 is just the n = 3f + 1 case).
 *
 * Long on purpose: one class owns one height's I/O (timers, the inbox bounds,
 * executions kept, the guard, commit), and splitting it would spread the
 * order of those steps, which is what makes it correct, over several files.
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
import { defaultTimeliness, isTimely, type TimelinessOptions } from "../chain/blockTime.ts";
import { type BuiltBlock, bodyMismatch, type Chain, type Execution } from "../chain/chain.ts";
import type { Mempool, PendingTx } from "../mempool/mempool.ts";
import {
  ConsensusEngine,
  type EngineAction,
  type EngineEvent,
  type TimeoutConfig,
} from "./engine.ts";
import { HeightTimer, type PhaseObserver } from "./phases.ts";
import type { SigningGuard, ValidValue } from "./signingGuard.ts";

/**
 * Bounds on peers' messages waiting for their engine (this height's, until
 * the queue drains; the next height's, until it starts). Gossip accepts
 * messages for the next two heights, and a Byzantine validator can sign as
 * many distinct ones as it likes: past these bounds new ones are dropped
 * (catch-up brings what an honest peer still holds). 4 MiB is one
 * maximum-size block; count and bytes both bound it.
 */
export const MAX_INBOX_MESSAGES = 16 * MAX_VALIDATORS;
export const MAX_INBOX_BYTES = 24 * 1024 * 1024;
/** Executed blocks of the current height kept for voting and commit (see #keep). */
const MAX_KEPT_BLOCKS = 8;
/** Proposals for rounds above the engine's wait here, executed only once it gets there. */
const MAX_DEFERRED_PROPOSALS = 4;

interface Received {
  readonly message: ConsensusMessage;
  /** When it reached us (proposer-based timestamps judge a proposal's time by it). */
  readonly receivedAt: number;
  /** Its encoded size (0 when unknown). */
  readonly size: number;
}

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

/**
 * What a proposer puts in its block, given the honest choice. The seam
 * through which the test build plays a Byzantine proposer (hooks.ts).
 */
export interface ProposerChoices {
  blockTime?(honest: number): number;
  candidates?(honest: readonly PendingTx[]): readonly PendingTx[];
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
  /** Clock bounds for proposer-based timestamps (chain/blockTime.ts). */
  readonly timeliness?: TimelinessOptions;
  /** Choices of the block this node proposes (a seam: see hooks.ts); unset, the honest ones. */
  readonly proposer?: ProposerChoices;
  /** True when the block at `height` is the last this node decides (haltHeight): it then starts no next height. */
  readonly haltAfter?: (height: number) => boolean;
  /** Equivocation evidence: what to record in blocks we propose, and where to report what the engine finds. */
  readonly evidence?: {
    pending(): readonly DuplicateVoteEvidence[];
    found(e: DuplicateVoteEvidence): void;
    unrecordable(items: readonly DuplicateVoteEvidence[]): void;
  };
  /** Told where each height this node commits spent its time (phases.ts). */
  readonly onPhase?: PhaseObserver;
}

export class ConsensusDriver {
  readonly #options: BlockOptions;
  readonly #deps: DriverDeps;
  #engine: ConsensusEngine | null = null;
  #height = 0;
  readonly #executions = new Map<string, Execution>();
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
  #inbox: Received[] = [];
  #inboxBytes = 0;
  /** A drain of the inbox is already queued (a flood queues one, not one per message). */
  #drainQueued = false;
  /** Proposals for rounds above the engine's, by round (see MAX_DEFERRED_PROPOSALS). */
  readonly #deferred = new Map<number, Received>();
  /** Blocks of proposals the engine holds, by hash: re-served to peers with their proposal. */
  readonly #blocks = new Map<string, Block>();
  /** Block hashes this height found invalid (never executed twice). */
  readonly #invalid = new Set<string>();
  /** The valid round the signing guard keeps for this height (-1: none). */
  #persistedValidRound = -1;
  /** The current height's phase marks. */
  #timer = new HeightTimer();

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
  receive(message: ConsensusMessage, size = 0): void {
    const height = heightOf(message);
    if (height < this.#height || height > this.#height + 1) return;
    if (this.#inbox.length >= MAX_INBOX_MESSAGES || this.#inboxBytes + size > MAX_INBOX_BYTES)
      return;
    this.#inbox.push({ message, receivedAt: this.#deps.now(), size });
    this.#inboxBytes += size;
    if (height !== this.#height) return;
    if (!this.#engine) this.#wake?.();
    else if (!this.#drainQueued) {
      this.#drainQueued = true;
      void this.#enqueue(() => this.#drainInbox());
    }
  }

  /** Feeds the engine every inbox message for its height; drops older ones. */
  async #drainInbox(): Promise<void> {
    this.#drainQueued = false;
    const engine = this.#engine;
    if (!engine) return;
    const now = this.#inbox.filter((r) => heightOf(r.message) === this.#height);
    this.#inbox = this.#inbox.filter((r) => heightOf(r.message) > this.#height);
    this.#inboxBytes = this.#inbox.reduce((sum, r) => sum + r.size, 0);
    for (const received of now) {
      if (this.#engine !== engine) return;
      const m = received.message;
      if (m.kind === "vote") {
        await this.#handle({ type: "vote", vote: m.vote });
        continue;
      }
      // The polka's prevotes first, so the engine can see why the block may be voted for.
      for (const vote of m.polVotes) await this.#handle({ type: "vote", vote });
      await this.#offerProposal(engine, received);
    }
  }

  /**
   * Hands a peer's proposal to the engine if it can use it, executing its
   * block at most once per round (the engine keeps a round's first proposal)
   * and at most once per block hash at this height. A proposal for a round
   * ahead of ours waits, unexecuted, until we get there.
   */
  async #offerProposal(engine: ConsensusEngine, received: Received): Promise<void> {
    const m = received.message;
    if (m.kind !== "proposal") return;
    const { proposal } = m.proposal;
    if (proposal.round > engine.round) {
      if (this.#deferred.has(proposal.round)) return;
      this.#deferred.set(proposal.round, received);
      // Keep the highest rounds: honest validators move up, never down.
      while (this.#deferred.size > MAX_DEFERRED_PROPOSALS)
        this.#deferred.delete(Math.min(...this.#deferred.keys()));
      return;
    }
    if (!engine.wantsProposal(proposal.round, proposal.proposer)) return;
    // A body that is not the header's (someone relayed the real proposal
    // with other transactions) says nothing about the proposal: drop it
    // before it can take the round's slot or mark the hash invalid.
    if (bodyMismatch(m.block) !== null) return;
    this.#timer.mark("proposal");
    const valid = await this.#validate(m.block, m.proposal);
    if (valid) this.#timer.mark("executed");
    if (this.#engine !== engine) return;
    const timely = isTimely(
      m.block.header.time,
      received.receivedAt,
      proposal.round,
      this.#deps.timeliness ?? defaultTimeliness,
    );
    if (valid) this.#blocks.set(toHex(proposal.blockHash), m.block);
    await this.#handle({ type: "proposal", proposal: m.proposal, valid, timely });
  }

  /**
   * Keeps an executed block of this height, and at most MAX_KEPT_BLOCKS of
   * them (each can be a maximum-size block): the oldest go first, except the
   * engine's locked and valid values, which it may still propose or commit.
   * A block decided after its execution was dropped is fetched by block sync.
   */
  #keep(key: string, exec: Execution): void {
    this.#executions.set(key, exec);
    if (this.#executions.size <= MAX_KEPT_BLOCKS) return;
    const state = this.#engine?.state;
    const keep = new Set(
      [state?.lockedValue, state?.validValue, exec.blockHash].flatMap((v) => (v ? [toHex(v)] : [])),
    );
    for (const old of this.#executions.keys()) {
      if (this.#executions.size <= MAX_KEPT_BLOCKS) break;
      if (keep.has(old)) continue;
      this.#executions.delete(old);
      this.#blocks.delete(old);
    }
  }

  /** Deferred proposals whose round the engine has now reached. */
  async #offerDeferred(engine: ConsensusEngine): Promise<void> {
    for (const [round, received] of [...this.#deferred]) {
      if (this.#engine !== engine || round > engine.round) continue;
      this.#deferred.delete(round);
      await this.#offerProposal(engine, received);
    }
  }

  /**
   * Executes a peer's proposed block on our state; true if it is valid.
   * Validity depends on the block, the proposal and the chain alone: a
   * fresh proposal (no polka from an earlier round) must carry a header
   * naming its own proposer, the round's (gossip checked the rotation).
   */
  async #validate(block: Block, signed: SignedProposal): Promise<boolean> {
    const { chain, verifyBlockSignatures, log } = this.#deps;
    const { blockHash: claimedHash, polRound, proposer } = signed.proposal;
    if (polRound === null && !equalBytes(block.header.proposer, proposer)) {
      log.warn({ height: block.header.height }, "fresh proposal of a block by another proposer");
      return false;
    }
    // The header binds the body (bodyMismatch was checked), so a hash's verdict holds for the height.
    const key = toHex(claimedHash);
    if (this.#executions.has(key)) return true;
    if (this.#invalid.has(key)) return false;
    try {
      const exec = await chain.executeBlock(block);
      if (!equalBytes(exec.blockHash, claimedHash)) throw new Error("block hash mismatch");
      if (verifyBlockSignatures && !(await verifyBlockSignatures([block])))
        throw new Error("a transaction or evidence signature does not verify");
      this.#keep(key, exec);
      return true;
    } catch (err) {
      this.#invalid.add(key);
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

  /**
   * The signing guard named its key after this height's engine started
   * without it (a remote signer that was down). Membership is decided when
   * a height starts, so without this the node would sit the height out, and
   * a network that needs its vote for two thirds would never finish the
   * height, so it would never reach the next one either. The height starts
   * again as a member, fed what the old engine had received; nothing was
   * signed for it, so there is nothing to conflict with.
   */
  keyNamed(): void {
    void this.#enqueue(async () => {
      const engine = this.#engine;
      const key = this.#deps.guard?.publicKey;
      if (this.#stopped || !engine || !key || engine.isValidator) return;
      const validators = this.#deps.chain.validatorsAt(this.#height);
      if (!validators.some((v) => equalBytes(v.publicKey, key))) return;
      const received = this.messagesFor(this.#height);
      this.#deps.log.info({ height: this.#height }, "signer named our key: joining this height");
      this.#abandonHeight();
      for (const message of received) this.receive(message);
    });
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
    if (this.#deps.haltAfter?.(chain.head.height)) return; // halted: no proposal, no vote
    this.#height = chain.head.height + 1;
    this.#timer = new HeightTimer();
    this.#executions.clear();
    this.#deferred.clear();
    this.#blocks.clear();
    this.#invalid.clear();
    await this.#waitForWork();
    if (this.#stopped) return;
    // The head moved while we waited (block sync): start over at the new height.
    if (chain.head.height + 1 !== this.#height) return this.#nextHeight();
    this.#timer.mark("started");
    const validators = chain.validatorsAt(this.#height);
    const key = this.#deps.guard?.publicKey;
    // Validating is per height: a key voted in (or out) takes part from the height its set signs.
    const member = key !== undefined && validators.some((v) => equalBytes(v.publicKey, key));
    // After a restart mid-height: the round we were in, our lock and valid value (see EngineInit.resume).
    const resume = member ? (this.#deps.guard?.resume(this.#height) ?? null) : null;
    const validKnown = resume?.validBlock ? await this.#restoreValid(resume.validBlock) : false;
    this.#persistedValidRound = validKnown && resume ? resume.validRound : -1;
    this.#engine = new ConsensusEngine({
      chainId: chain.chainId,
      height: this.#height,
      validators,
      self: member ? key : null,
      ...(resume && {
        resume: {
          round: resume.round,
          lockedRound: resume.lockedRound,
          lockedValue: resume.lockedValue,
          ...(validKnown && { validRound: resume.validRound, validValue: resume.validValue }),
        },
      }),
      ...(this.#deps.timeouts && { timeouts: this.#deps.timeouts }),
    });
    // The polka goes in before start, so a re-proposal of the valid value can carry it.
    if (validKnown && resume)
      for (const vote of resume.polVotes) await this.#handle({ type: "vote", vote });
    await this.#handle({ type: "start" });
    await this.#drainInbox();
  }

  /** Executes the valid value's block kept by the guard, so it can be proposed again; false if it no longer fits. */
  async #restoreValid(block: Block): Promise<boolean> {
    try {
      const exec = await this.#deps.chain.executeBlock(block);
      this.#keep(toHex(exec.blockHash), exec);
      this.#blocks.set(toHex(exec.blockHash), block);
      return true;
    } catch (err) {
      this.#deps.log.warn({ err }, "the kept valid block does not execute; not restoring it");
      return false;
    }
  }

  /** The engine's valid value when it is newer than what the guard keeps, with its block and polka. */
  #newValid(engine: ConsensusEngine): ValidValue | null {
    const valid = engine.valid;
    if (!valid || valid.round <= this.#persistedValidRound) return null;
    const { round: validRound, value: validValue } = valid;
    const entry = this.#executions.get(toHex(validValue));
    if (!entry) return null;
    return {
      round: validRound,
      blockHash: validValue,
      blockBytes: entry.blockBytes,
      polVotes: polkaOf(engine.messages().votes, validRound, validValue),
    };
  }

  /** Keeps a new valid value that no vote carried to the guard (L36 seen in step precommit). */
  async #persistValid(engine: ConsensusEngine): Promise<void> {
    const valid = this.#newValid(engine);
    if (!valid || !this.#deps.guard) return;
    await this.#deps.guard.rememberValid(this.#height, valid);
    this.#persistedValidRound = valid.round;
  }

  /**
   * Resolves when there is something to propose (a transaction that can
   * execute now: one behind a nonce gap is not work), a peer started the
   * height, the heartbeat is due, or we stop.
   */
  async #waitForWork(): Promise<void> {
    const { mempool, chain, now } = this.#deps;
    const heartbeatAt = chain.head.header.time + this.#options.heartbeatMs;
    const othersStarted = () => this.#inbox.some((r) => heightOf(r.message) === this.#height);
    const work = async () => mempool.size > 0 && (await mempool.hasExecutable());
    while (!this.#stopped && !othersStarted() && now() < heartbeatAt && !(await work())) {
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
    const round = engine.round;
    const pending: EngineAction[] = [...engine.handle(event)];
    while (pending.length > 0 && !this.#stopped) {
      const action = pending.shift()!;
      const next = await this.#act(action);
      if (next && this.#engine === engine) pending.push(...engine.handle(next));
    }
    if (this.#engine !== engine) return;
    await this.#persistValid(engine);
    // A new round may make a waiting proposal usable.
    if (engine.round > round && this.#deferred.size > 0) await this.#offerDeferred(engine);
  }

  /**
   * Every signed proposal (with its block) and vote of this height the
   * engine holds, ours and peers', served to peers that missed them (block
   * sync's catch-up): gossip only reaches peers connected when a message is
   * sent, and the algorithm needs every message to reach every honest
   * validator eventually. What the engine refused (duplicates, rounds far
   * ahead, an equivocator's extra votes) is not served: that bounds it.
   */
  messagesFor(height: number): readonly ConsensusMessage[] {
    const engine = this.#engine;
    if (height !== this.#height || !engine) return [];
    const { proposals, votes } = engine.messages();
    const out: ConsensusMessage[] = [];
    for (const proposal of proposals) {
      const block = this.#blocks.get(toHex(proposal.proposal.blockHash));
      if (!block) continue;
      out.push({
        kind: "proposal",
        proposal,
        block,
        polVotes: polkaOf(votes, proposal.proposal.polRound, proposal.proposal.blockHash),
      });
    }
    for (const vote of votes) out.push({ kind: "vote", vote });
    return out;
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
        this.#timer.mark("proposal");
        const built = await this.#buildOrReuse();
        this.#timer.mark("executed");
        return { type: "value", round: action.round, blockHash: built.blockHash };
      }
      case "propose": {
        if (!guard) return null;
        const entry = this.#executions.get(toHex(action.proposal.blockHash));
        if (!entry) return null;
        const signature = await guard.signProposal(action.proposal, entry.blockBytes);
        if (!signature) {
          log.warn(
            { height: action.proposal.height, round: action.proposal.round },
            "signing guard refused a proposal",
          );
          return null;
        }
        const signed = { proposal: action.proposal, signature };
        const votes = this.#engine?.messages().votes ?? [];
        const polVotes = polkaOf(votes, action.proposal.polRound, action.proposal.blockHash);
        this.#blocks.set(toHex(action.proposal.blockHash), entry.block);
        broadcast?.proposal(signed, entry.block, polVotes);
        return { type: "proposal", proposal: signed, valid: true };
      }
      case "vote": {
        if (!guard) return null;
        // A lock comes with a new valid value (L38-L43): kept in the same synced write.
        const valid = this.#engine ? this.#newValid(this.#engine) : null;
        const signature = await guard.signVote(action.vote, valid, action.polRound);
        if (signature && valid) this.#persistedValidRound = valid.round;
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
        broadcast?.vote(signed);
        if (action.vote.blockHash !== null)
          this.#timer.mark(action.vote.type === "prevote" ? "prevoted" : "precommitted");
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
        this.#timer.mark("decided");
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
      this.#keep(toHex(exec.blockHash), exec);
      return exec;
    }
    const choices = this.#deps.proposer;
    const honest = await mempool.reap({
      maxTxs: this.#options.maxTxs,
      maxBytes: this.#options.maxBytes,
    });
    const candidates = choices?.candidates?.(honest) ?? honest;
    const evidence = this.#deps.evidence;
    const offered = evidence?.pending() ?? [];
    const time = chain.nextTime(now());
    const built: BuiltBlock = await chain.buildBlock(
      candidates,
      choices?.blockTime?.(time) ?? time,
      guard?.publicKey ?? new Uint8Array(32),
      offered,
    );
    if (built.refusedEvidence.length > 0) evidence?.unrecordable(built.refusedEvidence);
    // Recorded as dropped by the mempool's drop listener, like every drop.
    for (const f of built.failed) mempool.drop(f.tx, f.error.code, f.error.shortMessage);
    this.#keep(toHex(built.blockHash), built);
    return built;
  }

  /** One pass over the height's marks, to the observer and (at debug level) the log. */
  #reportPhases(txs: number): void {
    const { onPhase, log } = this.#deps;
    const debug = log.isLevelEnabled("debug");
    if (!onPhase && !debug) return;
    const ms: Record<string, number> = {};
    this.#timer.finish((phase, seconds) => {
      onPhase?.(phase, seconds);
      ms[phase] = Math.round(seconds * 1000);
    });
    if (debug) log.debug({ height: this.#height, txs, ...ms }, "height phases");
  }

  async #commit(blockHash: Uint8Array, certificate: FinalityCertificate): Promise<void> {
    const entry = this.#executions.get(toHex(blockHash));
    if (!entry || !equalBytes(entry.blockHash, blockHash)) {
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
      await chain.commit(entry, certificate);
      this.#reportPhases(entry.block.txs.length);
    } catch (err) {
      // Block sync committed this height first; our block is the same final block.
      if (chain.head.height < entry.block.header.height) throw err;
    } finally {
      this.#ownCommit = false;
    }
    this.#engine = null;
    void this.#enqueue(() => this.#nextHeight());
  }
}

/** The prevotes for `blockHash` in `round`: the polka a re-proposal carries. */
function polkaOf(
  votes: readonly SignedVote[],
  round: number | null,
  blockHash: Uint8Array,
): SignedVote[] {
  if (round === null) return [];
  return votes.filter(
    (v) =>
      v.vote.type === "prevote" &&
      v.vote.round === round &&
      v.vote.blockHash !== null &&
      equalBytes(v.vote.blockHash, blockHash),
  );
}
