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
  equalBytes,
  type FinalityCertificate,
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
  proposal(p: SignedProposal, block: Block): void;
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
  readonly verifyBlockSignatures?: (block: Block) => Promise<boolean>;
  readonly timeouts?: Partial<TimeoutConfig>;
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
  #wake: (() => void) | null = null;
  #unsubscribe: (() => void) | null = null;
  /** Peers' messages for this height or the next, until the engine for their height runs. */
  #inbox: ConsensusMessage[] = [];

  constructor(options: Partial<BlockOptions>, deps: DriverDeps) {
    this.#options = { ...defaultBlockOptions, ...options };
    this.#deps = deps;
  }

  start(): void {
    this.#stopped = false;
    this.#unsubscribe = this.#deps.mempool.onAdd(() => this.#wake?.());
    void this.#enqueue(() => this.#nextHeight());
  }

  /** Stops timers and waits for the event in progress (e.g. a commit) to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#wake?.();
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
      if (m.kind === "vote") await this.#handle({ type: "vote", vote: m.vote });
      else
        await this.#handle({
          type: "proposal",
          proposal: m.proposal,
          valid: await this.#validate(m.block, m.proposal.proposal.blockHash),
        });
    }
  }

  /** Executes a peer's proposed block on our state; true if it is valid. */
  async #validate(block: Block, claimedHash: Uint8Array): Promise<boolean> {
    const { chain, verifyBlockSignatures, log } = this.#deps;
    try {
      const exec = await chain.executeBlock(block);
      if (!equalBytes(exec.blockHash, claimedHash)) return false;
      if (verifyBlockSignatures && !(await verifyBlockSignatures(block))) return false;
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

  async #nextHeight(): Promise<void> {
    const { chain } = this.#deps;
    this.#height = chain.head.height + 1;
    this.#executions.clear();
    await this.#waitForWork();
    if (this.#stopped) return;
    this.#engine = new ConsensusEngine({
      chainId: chain.chainId,
      height: this.#height,
      validators: chain.validatorsAt(this.#height),
      self: this.#deps.guard?.publicKey ?? null,
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
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, heartbeatAt - now()));
        this.#timers.add(t);
        this.#wake = () => {
          clearTimeout(t);
          this.#timers.delete(t);
          resolve();
        };
      });
      this.#wake = null;
    }
    if (mempool.size > 0 && this.#options.batchDelayMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.#timers.delete(t);
          resolve();
        }, this.#options.batchDelayMs);
        this.#timers.add(t);
      });
    }
  }

  async #handle(event: EngineEvent): Promise<void> {
    const engine = this.#engine;
    if (!engine) return;
    const pending: EngineAction[] = [...engine.handle(event)];
    while (pending.length > 0 && !this.#stopped) {
      const action = pending.shift()!;
      const next = await this.#act(action);
      if (next && this.#engine === engine) pending.push(...engine.handle(next));
    }
  }

  /** Carries out one action; returns the event it produces for the engine, if any. */
  async #act(action: EngineAction): Promise<EngineEvent | null> {
    const { guard, broadcast, log } = this.#deps;
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
        broadcast?.proposal(signed, entry.exec.block);
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
    const built: BuiltBlock = await chain.buildBlock(
      candidates,
      chain.nextTime(now()),
      guard?.publicKey ?? new Uint8Array(32),
    );
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
      this.#deps.log.error(
        { height: this.#height, blockHash: toHex(blockHash) },
        "decided an unknown block",
      );
      return;
    }
    const { chain, mempool } = this.#deps;
    // Timers belong to this height's rounds; none may fire into the next height.
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await chain.commit(entry.exec, certificate, entry.dropped);
    mempool.removeCommitted(entry.exec.txHashes);
    await mempool.dropStale(entry.exec.senders);
    this.#engine = null;
    void this.#enqueue(() => this.#nextHeight());
  }
}
