/**
 * The chain: the committed head, block building and execution, and commit.
 * Builds a block from mempool candidates (executing each; failures are
 * dropped with their reason), executes a block proposed by someone else the
 * same way, and commits a finalized block with its certificate in one
 * database batch. Owns the head; does not vote or sign (consensus does).
 *
 * Long on purpose: build, execute and commit share the head, the
 * validator-set schedule and the state tree, whose consistency is this
 * class's job; the rules are state/rules.ts and state/ledger.ts.
 */
import {
  type Account,
  accountKey,
  type Block,
  type BlockHeader,
  blockHash,
  bytesKey,
  compareBytes,
  type DuplicateVoteEvidence,
  decodeAccount,
  decodeValidatorSet,
  EvidenceError,
  encodeBlock,
  encodeBlockFromParts,
  encodeValidatorSet,
  equalBytes,
  evidenceKey,
  evidenceRoot,
  evidenceSlot,
  type FinalityCertificate,
  fromHex,
  headerProtocolVersion,
  INITIAL_PROTOCOL_VERSION,
  MAX_BLOCK_EVIDENCE,
  MAX_EVIDENCE_AGE,
  merkleRoot,
  type NodeWrite,
  protocolVersionAt,
  type SignedTransaction,
  SparseMerkleTree,
  TransactionError,
  toHex,
  transactionHash,
  transactionsRoot,
  type UpgradeSchedule,
  type ValidatorSet,
  validatorSetHash,
} from "@edgeledger/sdk/protocol";
import type { Database, HeadRecord } from "../db/database.ts";
import type { PendingTx } from "../mempool/mempool.ts";
import {
  applyTransaction,
  evidenceRecord,
  PendingState,
  type StateReader,
  tallyValidatorChanges,
  VALIDATOR_SET_KEY,
} from "../state/ledger.ts";
import type { Genesis } from "./genesis.ts";
import { openGenesis } from "./genesisBuild.ts";

/** The meta record of adopted validator sets (genesis's is implied; state sync writes it too). */
export const SCHEDULE_META = "validatorSchedule";

/** Head-state accounts kept in memory before the cache starts over. */
const HEAD_ACCOUNT_CACHE = 200_000;

export type HeadListener = (
  head: ChainHead,
  certificate: FinalityCertificate,
  exec: Execution,
) => void;

export interface ChainHead {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly header: BlockHeader;
}

export interface Execution {
  readonly block: Block;
  readonly blockHash: Uint8Array;
  readonly blockBytes: Uint8Array;
  readonly stateWrites: readonly NodeWrite[];
  /** Nodes of the parent's state tree that this block's no longer reaches (for pruning). */
  readonly staleNodes: readonly Uint8Array[];
  readonly txHashes: readonly Uint8Array[];
  /** Senders whose nonce moved (bytesKey of their address), for the mempool. */
  readonly senders: readonly string[];
  /** Every account the block read or wrote, as it stands after the block. */
  readonly accounts: readonly { address: Uint8Array; account: Account | null }[];
  /** A validator set this block's votes adopted, and the first height it signs. */
  readonly validatorChange: { readonly from: number; readonly set: ValidatorSet } | null;
}

/**
 * A set adopted by the votes in block h signs from h + 2: header h + 1
 * already names it as next, so a light client sees it coming, and nobody has
 * to change the set of a height whose messages may already be in flight.
 */
export const VALIDATOR_CHANGE_DELAY = 2;

interface ScheduledSet {
  readonly from: number;
  readonly set: ValidatorSet;
}

export interface BuiltBlock extends Execution {
  readonly failed: readonly { tx: PendingTx; error: TransactionError }[];
  /** Evidence offered that cannot be recorded (already on chain, too old, …). */
  readonly refusedEvidence: readonly DuplicateVoteEvidence[];
}

export class Chain {
  readonly #db: Database;
  readonly #genesis: Genesis;
  readonly #tree: SparseMerkleTree;
  readonly #headListeners = new Set<HeadListener>();
  #head!: ChainHead;
  /** Set by init(): a large genesis is built into the database, not in the constructor. */
  genesisHash!: Uint8Array;
  genesisHeader!: BlockHeader;

  constructor(db: Database, genesis: Genesis) {
    this.#db = db;
    this.#genesis = genesis;
    this.#tree = new SparseMerkleTree(db.stateStore);
  }

  get chainId(): string {
    return this.#genesis.chainId;
  }
  /**
   * False until init() has read (or written) the head: while a state sync
   * join writes the state, the node is up (API, metrics) with no head yet.
   */
  get opened(): boolean {
    return this.#head !== undefined;
  }
  /** The head; read it only once opened (the join's API and metrics ask `opened` first). */
  get head(): ChainHead {
    return this.#head;
  }
  get tree(): SparseMerkleTree {
    return this.#tree;
  }
  /** Fixed from genesis until validator-set changes land (issue 4). */
  /**
   * The set that signs block `height`: genesis's until votes change it.
   * Known up to head + 2 (a change adopted at the head signs from head + 2).
   */
  validatorsAt(height: number): ValidatorSet {
    for (let i = this.#schedule.length - 1; i >= 0; i--) {
      const entry = this.#schedule[i]!;
      if (entry.from <= height) return entry.set;
    }
    return this.#genesis.validators;
  }

  /**
   * The protocol version block `height` must carry (and whose rules it
   * executes under): the genesis schedule's, the one place that maps
   * heights to versions. Admission asks it for head + 1.
   */
  protocolVersionAt(height: number): number {
    return protocolVersionAt(this.#genesis.upgrades ?? [], height);
  }

  /** The genesis's upgrade schedule (empty: version 1 forever), for status and metrics. */
  get upgrades(): UpgradeSchedule {
    return this.#genesis.upgrades ?? [];
  }

  /** Every set change so far: the genesis set from height 1, then each adopted one. */
  get validatorSchedule(): readonly ScheduledSet[] {
    return this.#schedule;
  }

  #schedule: ScheduledSet[] = [];

  /** Loads the head from the database, writing the genesis state on first start. */
  async init(): Promise<void> {
    ({ header: this.genesisHeader, hash: this.genesisHash } = await openGenesis(
      this.#db,
      this.#tree,
      this.#genesis,
    ));
    const stored = this.#db.getMeta<{ from: number; set: string }[]>(SCHEDULE_META) ?? [];
    this.#schedule = [
      { from: 1, set: this.#genesis.validators },
      ...stored.map((e) => ({ from: e.from, set: decodeValidatorSet(fromHex(e.set)) })),
    ];
    const head = this.#db.getMeta<HeadRecord>("head");
    if (!head || head.height === 0) {
      this.#head = { height: 0, hash: this.genesisHash, header: this.genesisHeader };
      return;
    }
    // The header alone: a node that joined by state sync has none of the head's body.
    const header = this.#db.getHeader(head.height);
    if (!header)
      throw new Error(
        `Database head says height ${head.height} but that block is missing: the database is corrupt.`,
      );
    this.#head = { height: head.height, hash: fromHex(head.hash), header };
  }

  /** Called after each commit (by consensus or block sync) with the block's execution. */
  onHead(listener: HeadListener): () => void {
    this.#headListeners.add(listener);
    return () => this.#headListeners.delete(listener);
  }

  /** Committed state at `stateRoot` (default: the head's). */
  accountsAt(stateRoot: Uint8Array = this.#head.header.stateRoot): StateReader {
    return {
      getAccount: async (address) => {
        const v = await this.#tree.get(stateRoot, accountKey(address));
        return v ? decodeAccount(v) : null;
      },
      getValue: (key) => this.#tree.get(stateRoot, key),
    };
  }

  /**
   * Accounts at the head. Cached: a commit changes only the accounts its
   * block touched, and it updates those entries, so the rest stay right.
   */
  readonly accounts: StateReader = {
    getValue: (key) => this.#tree.get(this.#head.header.stateRoot, key),
    getAccount: async (address) => {
      const key = bytesKey(address);
      const cached = this.#headAccounts.get(key);
      if (cached !== undefined) return cached;
      const account = await this.accountsAt().getAccount(address);
      if (this.#headAccounts.size >= HEAD_ACCOUNT_CACHE) this.#headAccounts.clear();
      this.#headAccounts.set(key, account);
      return account;
    },
  };
  readonly #headAccounts = new Map<string, Account | null>();
  #commitQueue: Promise<void> = Promise.resolve();

  /** Next block time: now, but strictly after the parent's. */
  nextTime(now: number): number {
    return Math.max(now, this.#head.header.time + 1);
  }

  /**
   * Builds the next block from candidates, executing each in order, and
   * records the given evidence (already signature-checked by the caller):
   * items that cannot be recorded (too old, already recorded, not a member)
   * are left out, like transactions that fail.
   */
  async buildBlock(
    candidates: readonly PendingTx[],
    time: number,
    proposer: Uint8Array,
    evidence: readonly DuplicateVoteEvidence[] = [],
  ): Promise<BuiltBlock> {
    const parent = this.#head;
    const height = parent.height + 1;
    const validators = this.validatorsAt(height);
    const protocolVersion = this.protocolVersionAt(height);
    const state = new PendingState(this.accounts);
    const ctx = { chainId: this.chainId, blockTime: time, validators, protocolVersion };
    const included: PendingTx[] = [];
    const failed: { tx: PendingTx; error: TransactionError }[] = [];
    for (const c of candidates) {
      try {
        await applyTransaction(state, c.stx, ctx);
        included.push(c);
      } catch (err) {
        if (!(err instanceof TransactionError)) throw err;
        failed.push({ tx: c, error: err });
      }
    }
    const recorded: DuplicateVoteEvidence[] = [];
    const refusedEvidence: DuplicateVoteEvidence[] = [];
    const slots = new Set<string>();
    // One item per validator per block: a Byzantine validator that equivocates
    // at will adds one state record per block, not MAX_BLOCK_EVIDENCE.
    const against = new Set<string>();
    for (const e of evidence) {
      const slot = toHex(evidenceSlot(e));
      const who = toHex(e.first.vote.validator);
      if (slots.has(slot) || against.has(who) || recorded.length >= MAX_BLOCK_EVIDENCE) continue;
      try {
        await this.#recordEvidence(state, e, height);
        slots.add(slot);
        against.add(who);
        recorded.push(e);
      } catch (err) {
        if (!(err instanceof EvidenceError)) throw err;
        refusedEvidence.push(e);
      }
    }
    recorded.sort((a, b) => compareBytes(evidenceSlot(a), evidenceSlot(b)));
    const txs = included.map((c) => c.stx);
    // The mempool holds each transaction's canonical bytes: root and block come from them.
    const txBytes = included.map((c) => c.bytes);
    const validatorChange = await this.#validatorChange(state, height);
    const update = await this.#tree.update(parent.header.stateRoot, state.changes());
    const block: Block = {
      header: {
        chainId: this.chainId,
        height,
        time,
        parentHash: parent.hash,
        txRoot: merkleRoot(txBytes),
        txCount: txs.length,
        evidenceRoot: evidenceRoot(recorded),
        stateRoot: update.root,
        validatorsHash: validatorSetHash(validators),
        nextValidatorsHash: validatorSetHash(this.validatorsAt(height + 1)),
        proposer,
        ...(protocolVersion !== INITIAL_PROTOCOL_VERSION && { protocolVersion }),
      },
      txs,
      evidence: recorded,
    };
    return {
      block,
      blockHash: blockHash(block.header),
      blockBytes: encodeBlockFromParts(block.header, txBytes, recorded),
      stateWrites: update.writes,
      staleNodes: update.stale,
      txHashes: included.map((c) => c.hash),
      senders: sendersOf(state),
      accounts: state.touched(),
      validatorChange,
      failed,
      refusedEvidence,
    };
  }

  /**
   * Checks a block proposed for the next height and executes it. Throws if
   * any header field, transaction or evidence item is wrong (the block is
   * then invalid). Signatures (of transactions and evidence votes) are the
   * caller's to check first.
   */
  async executeBlock(block: Block): Promise<Execution> {
    const parent = this.#head;
    const h = block.header;
    const fail = (why: string): never => {
      throw new Error(`Invalid block ${h.height}: ${why}`);
    };
    if (h.chainId !== this.chainId) fail("wrong chain id");
    if (h.height !== parent.height + 1) fail("not the next height");
    if (!equalBytes(h.parentHash, parent.hash)) fail("parent hash is not the head");
    if (h.time <= parent.header.time) fail("time does not increase");
    const protocolVersion = this.protocolVersionAt(h.height);
    if (headerProtocolVersion(h) !== protocolVersion)
      fail(`protocol version ${headerProtocolVersion(h)}, the schedule says ${protocolVersion}`);
    const body = bodyMismatch(block);
    if (body !== null) fail(body);
    const validators = this.validatorsAt(h.height);
    // Which member: the proposer of the round the block was first proposed
    // in, which only consensus knows (driver.ts checks it for fresh proposals).
    if (!validators.some((v) => equalBytes(v.publicKey, h.proposer)))
      fail("the proposer is not a validator of this height");
    const perValidator = new Set<string>();
    for (const e of block.evidence) {
      const who = toHex(e.first.vote.validator);
      if (perValidator.has(who)) fail("two evidence items against one validator");
      perValidator.add(who);
    }
    if (
      !equalBytes(h.validatorsHash, validatorSetHash(validators)) ||
      !equalBytes(h.nextValidatorsHash, validatorSetHash(this.validatorsAt(h.height + 1)))
    )
      fail("validator set hash");
    const state = new PendingState(this.accounts);
    const ctx = { chainId: this.chainId, blockTime: h.time, validators, protocolVersion };
    for (const stx of block.txs) await applyTransaction(state, stx, ctx);
    for (const e of block.evidence) await this.#recordEvidence(state, e, h.height);
    const validatorChange = await this.#validatorChange(state, h.height);
    const update = await this.#tree.update(parent.header.stateRoot, state.changes());
    if (!equalBytes(update.root, h.stateRoot)) fail("state root mismatch");
    return {
      block,
      blockHash: blockHash(h),
      blockBytes: encodeBlock(block),
      stateWrites: update.writes,
      staleNodes: update.stale,
      txHashes: block.txs.map((t: SignedTransaction) => transactionHash(t.tx)),
      senders: sendersOf(state),
      accounts: state.touched(),
      validatorChange,
    };
  }

  /**
   * Records an equivocation in `state`, or throws an EvidenceError: it must
   * be about a height from MAX_EVIDENCE_AGE blocks ago up to this one, by a
   * member of that height's set, and not recorded before.
   */
  async #recordEvidence(
    state: PendingState,
    e: DuplicateVoteEvidence,
    height: number,
  ): Promise<void> {
    const at = e.first.vote.height;
    if (at > height || at < 1)
      throw new EvidenceError("EVIDENCE_FROM_FUTURE", "Evidence is about a height not reached.");
    if (height - at > MAX_EVIDENCE_AGE)
      throw new EvidenceError("EVIDENCE_TOO_OLD", "Evidence is too old to be recorded.");
    const validator = e.first.vote.validator;
    if (!this.validatorsAt(at).some((v) => equalBytes(v.publicKey, validator)))
      throw new EvidenceError(
        "EVIDENCE_UNKNOWN_VALIDATOR",
        "The votes' signer was not a validator at that height.",
      );
    const key = evidenceKey(e);
    if (await state.getValue(key))
      throw new EvidenceError(
        "EVIDENCE_ALREADY_RECORDED",
        "This equivocation is on chain already.",
      );
    state.setValue(key, evidenceRecord(height));
  }

  /** The set the votes of block `height` adopt, scheduled for `height` + 2 (see ledger.ts). */
  async #validatorChange(
    state: PendingState,
    height: number,
  ): Promise<{ from: number; set: ValidatorSet } | null> {
    if (state.votedAbout.size === 0) return null;
    const set = await tallyValidatorChanges(
      state,
      this.validatorsAt(height),
      this.validatorsAt(height + 1),
    );
    if (!set) return null;
    state.setValue(VALIDATOR_SET_KEY, encodeValidatorSet(set));
    return { from: height + VALIDATOR_CHANGE_DELAY, set };
  }

  /**
   * Commits a finalized block and its certificate in one batch, then moves the
   * head. `durable: false` (block sync, inside a run of blocks) skips the
   * fsync: a crash may then lose a suffix of such blocks, never a partial one,
   * and they are final blocks fetched again. Consensus commits are always
   * durable. Commits run one at a time (consensus and block sync both commit), and
   * each checks, in turn, that it extends the head.
   */
  commit(
    exec: Execution,
    certificate: FinalityCertificate,
    options: { durable?: boolean } = {},
  ): Promise<void> {
    const run = this.#commitQueue.then(() =>
      this.#commitNow(exec, certificate, options.durable ?? true),
    );
    this.#commitQueue = run.catch(() => undefined);
    return run;
  }

  async #commitNow(
    exec: Execution,
    certificate: FinalityCertificate,
    durable: boolean,
  ): Promise<void> {
    const h = exec.block.header;
    if (h.height !== this.#head.height + 1)
      throw new Error(`Commit of height ${h.height} on head ${this.#head.height}.`);
    const schedule = exec.validatorChange
      ? [...this.#schedule, exec.validatorChange]
      : this.#schedule;
    await this.#db.commitBlock(
      {
        block: exec.block,
        blockBytes: exec.blockBytes,
        blockHash: exec.blockHash,
        certificate,
        txHashes: exec.txHashes,
        stateWrites: exec.stateWrites,
        staleNodes: exec.staleNodes,
        head: { height: h.height, hash: toHex(exec.blockHash), stateRoot: toHex(h.stateRoot) },
        ...(exec.validatorChange && {
          meta: [
            {
              key: SCHEDULE_META,
              value: schedule
                .slice(1)
                .map((e) => ({ from: e.from, set: toHex(encodeValidatorSet(e.set)) })),
            },
          ],
        }),
      },
      { sync: durable },
    );
    this.#schedule = schedule;
    this.#head = { height: h.height, hash: exec.blockHash, header: h };
    for (const { address, account } of exec.accounts)
      this.#headAccounts.set(bytesKey(address), account);
    for (const l of this.#headListeners) l(this.#head, certificate, exec);
  }
}

/**
 * Why a block's body is not the one its header commits to (transaction
 * count and root, evidence root), or null. Cheap next to executing it, and
 * what tells a relayed proposal with a swapped body from the real one.
 */
export function bodyMismatch(block: Block): string | null {
  // Gossip validation, the driver and executeBlock all ask about the same
  // decoded (immutable) block: hash its transactions once, not three times.
  const known = bodyVerdicts.get(block);
  if (known !== undefined) return known;
  const h = block.header;
  let verdict: string | null = null;
  if (h.txCount !== block.txs.length || !equalBytes(h.txRoot, transactionsRoot(block.txs)))
    verdict = "txRoot/txCount mismatch";
  else if (!equalBytes(h.evidenceRoot, evidenceRoot(block.evidence)))
    verdict = "evidenceRoot mismatch";
  bodyVerdicts.set(block, verdict);
  return verdict;
}

const bodyVerdicts = new WeakMap<Block, string | null>();

/**
 * Records that `block`'s body is its header's without hashing it again: for
 * a block rebuilt from a compact proposal, whose leaves were checked against
 * the header and each name exactly the signed encoding put in (consensus/compact.ts).
 */
export function markBodyChecked(block: Block): void {
  bodyVerdicts.set(block, null);
}

function sendersOf(state: PendingState): string[] {
  return state.touched().map((t) => bytesKey(t.address));
}
