/**
 * The mempool: admits signed transactions that pass the transaction rules
 * (state/rules.ts, the ones execution applies) against the committed state
 * and the sender's pending run, keeps them per sender in nonce order, and
 * hands block production the executable ones. Its own concerns are the
 * pool's: duplicates, limits, ordering and expiry. Owns pending transactions only; reads the
 * committed state through `AccountReader`; writes nothing to disk.
 *
 * Every transaction that is admitted leaves either in a committed block or
 * through `onDrop` with a reason code; every refusal is a TransactionError.
 * When full, the pool first sheds expired transactions, then refuses new
 * ones with MEMPOOL_FULL (without fees there is no fair way to evict a valid
 * transaction for another).
 *
 * A little over 400 lines: admission for one and for many (the batch path
 * verifies on the worker pool), and the pool's bookkeeping, which share its
 * maps.
 */
import {
  addressFromPublicKey,
  bytesKey,
  DecodeError,
  decodeSignedTransaction,
  equalBytes,
  fromBytesKey,
  MAX_TX_BYTES,
  type SignatureVerifier,
  type SignedTransaction,
  TransactionError,
  type TransactionErrorCode,
  transactionHash,
  transactionLeaf,
  type ValidatorSet,
} from "@edgeledger/sdk/protocol";
import type { VerifierPool } from "@edgeledger/sdk/protocol/node";
import type { VerifiedSignatures } from "../chain/verifiedSignatures.ts";
import type { AccountReader } from "../state/ledger.ts";
import { checkChainAndTime, checkTransaction, refuse } from "../state/rules.ts";
import { Backlog, drainMs } from "./backlog.ts";

export interface MempoolOptions {
  /** Most transactions held at once. */
  readonly maxTxs: number;
  /** Most encoded bytes held at once. */
  readonly maxBytes: number;
  /** Most pending transactions per sender. */
  readonly maxPerAccount: number;
  /** A nonce may run at most this far ahead of the sender's next nonce. */
  readonly nonceWindow: number;
  /** expiresAt may be at most this far in the future (ms). */
  readonly maxExpiryMs: number;
  /** Clients may queue this many seconds of the measured commit rate (backlog.ts; 0: no limit). */
  readonly maxBacklogSeconds: number;
  /** ...and never fewer pending transactions than this. */
  readonly minBacklogTxs: number;
}

export const defaultMempoolOptions: MempoolOptions = {
  maxTxs: 50_000,
  maxBytes: 64 * 1024 * 1024,
  maxPerAccount: 256,
  nonceWindow: 256,
  maxExpiryMs: 60 * 60 * 1000,
  // Under overload an admitted transfer is final within about max(5 s, 10 000 ÷ rate), plus the
  // height under way. The floor is two full blocks: what arrives while a faulty proposer's round
  // times out must still fill the next block (at 3 s and 2 000, a Byzantine validator's heights
  // halved what the other three committed in the bench).
  maxBacklogSeconds: 5,
  minBacklogTxs: 10_000,
};

export interface MempoolDeps {
  readonly chainId: string;
  readonly verifier: SignatureVerifier;
  readonly accounts: AccountReader;
  /** True if the chain's index holds this transaction hash (committed or dropped). */
  readonly isKnown: (hash: Uint8Array) => boolean;
  readonly now: () => number;
  /** Worker-thread verification for batches; without it, batches verify on this thread. */
  readonly verifierPool?: VerifierPool;
  /** Where admitted transactions' signatures are remembered, so their block does not check them again. */
  readonly verified?: VerifiedSignatures;
  /** The set that signs the next block: validator-set votes are checked against it at admission. */
  readonly nextValidators: () => ValidatorSet;
  /** The protocol version of the next block, whose rules admission applies (absent: 1). */
  readonly nextProtocolVersion?: () => number;
}

interface Prechecked {
  readonly bytes: Uint8Array;
  readonly stx: SignedTransaction;
  readonly hash: Uint8Array;
  /** bytesKey(hash): the pool's map key. */
  readonly key: string;
  readonly now: number;
}

export interface PendingTx {
  readonly hash: Uint8Array;
  /** bytesKey(hash): the pool's map key. */
  readonly key: string;
  readonly stx: SignedTransaction;
  readonly bytes: Uint8Array;
  /** bytesKey of the sender's address. */
  readonly sender: string;
  readonly seq: number;
}

/**
 * Where an admitted transaction came from: `gossip` (a peer's gossiped batch,
 * which the network spreads already), `local` (a mempool pull, this node's
 * own: this node's to publish) or `client` (the API: published like local,
 * and shed when the backlog is full, see backlog.ts).
 */
export type TxOrigin = "client" | "local" | "gossip";

export interface DropEvent {
  readonly tx: PendingTx;
  readonly code: TransactionErrorCode;
  readonly message: string;
}

export class Mempool {
  readonly #options: MempoolOptions;
  readonly #deps: MempoolDeps;
  readonly #byHash = new Map<string, PendingTx>();
  /** bytesKey(transactionLeaf(bytes)) → tx: how a compact proposal names it. */
  readonly #byLeaf = new Map<string, PendingTx>();
  /** Each pending transaction's leaf, computed once at admission. */
  readonly #leaves = new WeakMap<SignedTransaction, Uint8Array>();
  /** Admissions under way (see settled). */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** sender address hex → nonce → tx */
  readonly #bySender = new Map<string, Map<number, PendingTx>>();
  readonly #dropListeners = new Set<(e: DropEvent) => void>();
  readonly #addListeners = new Set<(entry: PendingTx, origin: TxOrigin) => void>();
  #bytes = 0;
  #seq = 0;
  readonly #backlog: Backlog;
  #shedTotal = 0;
  /** Counts head changes (each calls removeCommitted), so an admission can tell its state read is stale. */
  #headEpoch = 0;

  constructor(options: Partial<MempoolOptions>, deps: MempoolDeps) {
    this.#options = { ...defaultMempoolOptions, ...options };
    this.#deps = deps;
    this.#backlog = new Backlog(this.#options);
  }

  get size(): number {
    return this.#byHash.size;
  }
  get bytes(): number {
    return this.#bytes;
  }

  get(hash: Uint8Array): PendingTx | undefined {
    return this.#byHash.get(bytesKey(hash));
  }

  /** The pending transaction whose signed encoding has this Merkle leaf hash (compact proposals). */
  byLeaf(leaf: Uint8Array): PendingTx | undefined {
    return this.#byLeaf.get(bytesKey(leaf));
  }

  /** The leaf of a transaction this pool admitted (the same object), without hashing it again. */
  leafOf(stx: SignedTransaction): Uint8Array | undefined {
    return this.#leaves.get(stx);
  }

  /**
   * Resolves once every admission under way when it was called has ended:
   * a compact proposal can arrive while the gossiped batch that carries its
   * transactions is still having its signatures checked.
   */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    void work.then(
      () => this.#inFlight.delete(work),
      () => this.#inFlight.delete(work),
    );
    return work;
  }

  /** The `limit` oldest pending transactions (for peers that missed their gossip). */
  oldest(limit: number): PendingTx[] {
    const out: PendingTx[] = [];
    for (const entry of this.#byHash.values()) {
      if (out.length >= limit) break;
      out.push(entry);
    }
    return out;
  }

  /** The nonce a new transaction from `sender` should carry: after its pending run. */
  async nextNonce(sender: Uint8Array): Promise<number> {
    let n = (await this.#deps.accounts.getAccount(sender))?.nonce ?? 0;
    const pending = this.#bySender.get(bytesKey(sender));
    while (pending?.has(n)) n++;
    return n;
  }

  onDrop(listener: (e: DropEvent) => void): () => void {
    this.#dropListeners.add(listener);
    return () => this.#dropListeners.delete(listener);
  }

  /** Called after each admission (block production waits on it; tx gossip publishes local ones). */
  onAdd(listener: (entry: PendingTx, origin: TxOrigin) => void): () => void {
    this.#addListeners.add(listener);
    return () => this.#addListeners.delete(listener);
  }

  /** Admits canonical signed-transaction bytes, or throws a TransactionError saying why not. */
  add(bytes: Uint8Array, origin: TxOrigin = "local"): Promise<PendingTx> {
    return this.#track(this.#addOne(bytes, origin));
  }

  async #addOne(bytes: Uint8Array, origin: TxOrigin): Promise<PendingTx> {
    const shed = this.#shed(origin);
    if (shed) throw shed;
    const checked = this.#precheck(bytes);
    const { stx } = checked;
    const verify = this.#deps.verifier;
    const ok = verify.verifySync
      ? verify.verifySync(stx.signature, checked.hash, stx.tx.from)
      : await verify.verify(stx.signature, checked.hash, stx.tx.from);
    if (!ok)
      refuse("TX_BAD_SIGNATURE", "Signature does not verify for this transaction and sender key.");
    this.#deps.verified?.add(stx.tx.from, checked.hash, stx.signature);
    return this.#admit(checked, origin);
  }

  /**
   * Admits many transactions, each on its own, in order. Signatures are
   * checked together on the verifier pool when there is one (the other
   * cores), which is what makes batch submission fast.
   */
  addMany(
    list: readonly Uint8Array[],
    origin: TxOrigin = "local",
  ): Promise<(PendingTx | TransactionError)[]> {
    return this.#track(this.#addMany(list, origin));
  }

  async #addMany(
    list: readonly Uint8Array[],
    origin: TxOrigin,
  ): Promise<(PendingTx | TransactionError)[]> {
    // Already full: refused before any decoding or signature check (overload must stay cheap).
    const shed = this.#shed(origin, list.length);
    if (shed) return list.map(() => shed);
    const checked = list.map((bytes) => {
      try {
        return this.#precheck(bytes);
      } catch (err) {
        if (err instanceof TransactionError) return err;
        throw err;
      }
    });
    const toVerify = checked.filter((c): c is Prechecked => !(c instanceof TransactionError));
    const pool = this.#deps.verifierPool;
    const verdicts = pool
      ? await pool.verifyBatch(
          toVerify.map((c) => ({
            signature: c.stx.signature,
            digest: c.hash,
            publicKey: c.stx.tx.from,
          })),
        )
      : await Promise.all(
          toVerify.map((c) => this.#deps.verifier.verify(c.stx.signature, c.hash, c.stx.tx.from)),
        );
    const verified = new Map(toVerify.map((c, i) => [c, verdicts[i] === true]));
    for (const [c, ok] of verified)
      if (ok) this.#deps.verified?.add(c.stx.tx.from, c.hash, c.stx.signature);
    const out: (PendingTx | TransactionError)[] = [];
    for (const c of checked) {
      if (c instanceof TransactionError) {
        out.push(c);
        continue;
      }
      try {
        if (!verified.get(c))
          refuse(
            "TX_BAD_SIGNATURE",
            "Signature does not verify for this transaction and sender key.",
          );
        out.push(await this.#admit(c, origin));
      } catch (err) {
        if (!(err instanceof TransactionError)) throw err;
        out.push(err);
      }
    }
    return out;
  }

  /** The checks that need no state and no signature: size, encoding, chain, expiry, duplicates. */
  #precheck(bytes: Uint8Array): Prechecked {
    const o = this.#options;
    if (bytes.length > MAX_TX_BYTES)
      refuse("TX_TOO_LARGE", `A transaction is at most ${MAX_TX_BYTES} bytes.`, {
        size: bytes.length,
      });
    let stx: SignedTransaction;
    try {
      stx = decodeSignedTransaction(bytes);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      throw new TransactionError(
        "TX_MALFORMED",
        `Transaction bytes are not a canonical signed transaction: ${err.shortMessage}`,
        {
          details: { decodeCode: err.code },
          cause: err,
        },
      );
    }
    const { tx } = stx;
    const now = this.#deps.now();
    checkChainAndTime(tx, { chainId: this.#deps.chainId, time: now });
    // Pool policy, not a rule: how long the pool will hold a transaction.
    if (tx.expiresAt > now + o.maxExpiryMs) {
      refuse("TX_EXPIRY_TOO_FAR", `expiresAt may be at most ${o.maxExpiryMs} ms in the future.`, {
        expiresAt: tx.expiresAt,
        now,
      });
    }
    const hash = transactionHash(tx);
    const key = bytesKey(hash);
    // A duplicate before any signature check only if it is the same signed
    // bytes: the same transaction with another signature is checked like a
    // new one, so a batch that carries a forged copy is refused here, where
    // it arrived, and never relayed to peers that would punish us for it.
    const pending = this.#byHash.get(key);
    if (pending && equalBytes(pending.stx.signature, stx.signature)) {
      refuse("TX_DUPLICATE", "This transaction was already submitted.", { hash });
    }
    return { bytes, stx, hash, key, now };
  }

  /** The checks against state and limits, then insertion. The signature is already checked. */
  async #admit({ bytes, stx, hash, key, now }: Prechecked, origin: TxOrigin): Promise<PendingTx> {
    const o = this.#options;
    const { tx } = stx;
    // Again: an identical transaction earlier in the same batch was admitted meanwhile.
    if (this.#byHash.has(key))
      refuse("TX_DUPLICATE", "This transaction was already submitted.", { hash });
    const shed = this.#shed(origin);
    if (shed) throw shed;
    const senderAddress = addressFromPublicKey(tx.from);
    const sender = bytesKey(senderAddress);
    // The head may move while the account is read (a block committing this
    // very transaction): then the read is stale, and admitting on it would
    // leave a committed transaction pending for good (removeCommitted ran
    // before it was here). Read again until no head change came between.
    let account: Awaited<ReturnType<AccountReader["getAccount"]>>;
    let epoch: number;
    do {
      epoch = this.#headEpoch;
      account = await this.#deps.accounts.getAccount(senderAddress);
    } while (epoch !== this.#headEpoch);
    const pending = this.#bySender.get(sender);
    if (pending?.has(tx.nonce))
      refuse("TX_DUPLICATE", "Another pending transaction already uses this nonce.", {
        nonce: tx.nonce,
      });
    // A transfer must be covered together with the sender's pending transfers before it.
    let spentBefore = 0n;
    for (const p of pending?.values() ?? [])
      if (p.stx.tx.nonce < tx.nonce && p.stx.tx.body.kind === "transfer")
        spentBefore += p.stx.tx.body.amount;
    try {
      checkTransaction(
        stx,
        {
          chainId: this.#deps.chainId,
          time: now,
          validators: this.#deps.nextValidators(),
          protocolVersion: this.#deps.nextProtocolVersion?.() ?? 1,
        },
        { account, nonceWindow: o.nonceWindow, spentBefore },
      );
    } catch (err) {
      // Only a transaction whose nonce is used can already be on chain, so
      // the index is read on this path alone, to say which it is.
      if (
        err instanceof TransactionError &&
        err.code === "TX_NONCE_TOO_LOW" &&
        this.#deps.isKnown(hash)
      )
        refuse("TX_DUPLICATE", "This transaction is already on chain.", { hash });
      throw err;
    }
    if ((pending?.size ?? 0) >= o.maxPerAccount) {
      refuse(
        "MEMPOOL_ACCOUNT_LIMIT",
        `This sender already has ${o.maxPerAccount} pending transactions; wait for some to commit.`,
      );
    }
    if (this.#byHash.size >= o.maxTxs || this.#bytes + bytes.length > o.maxBytes) {
      this.dropExpired(now);
      if (this.#byHash.size >= o.maxTxs || this.#bytes + bytes.length > o.maxBytes) {
        refuse("MEMPOOL_FULL", "The mempool is full; retry shortly.", {
          size: this.#byHash.size,
          bytes: this.#bytes,
          retryAfterMs: drainMs(this.#byHash.size - o.maxTxs + 1, this.#backlog.rate(now)),
        });
      }
    }
    const entry: PendingTx = { hash, key, stx, bytes, sender, seq: this.#seq++ };
    this.#byHash.set(key, entry);
    const leaf = transactionLeaf(bytes);
    this.#byLeaf.set(bytesKey(leaf), entry);
    this.#leaves.set(stx, leaf);
    this.#bytes += bytes.length;
    let bySender = pending;
    if (!bySender) {
      bySender = new Map();
      this.#bySender.set(sender, bySender);
    }
    bySender.set(tx.nonce, entry);
    for (const l of this.#addListeners) l(entry, origin);
    return entry;
  }

  /**
   * Executable transactions for the next block: for each sender, the run of
   * consecutive nonces starting at its committed next nonce, senders taken in
   * turn (oldest first) so one busy sender cannot fill a block alone.
   */
  async reap(limits: { maxTxs: number; maxBytes: number }): Promise<PendingTx[]> {
    const queues: PendingTx[][] = [];
    for (const [sender, txs] of this.#bySender) {
      const first = txs.values().next().value;
      if (!first) continue;
      const account = await this.#deps.accounts.getAccount(fromBytesKey(sender));
      const run: PendingTx[] = [];
      for (let n = account?.nonce ?? 0; txs.has(n); n++) run.push(txs.get(n)!);
      if (run.length > 0) queues.push(run);
    }
    queues.sort((a, b) => a[0]!.seq - b[0]!.seq);
    const out: PendingTx[] = [];
    let bytes = 0;
    for (let i = 0; out.length < limits.maxTxs; i++) {
      let took = false;
      for (const q of queues) {
        const tx = q[i];
        if (!tx) continue;
        if (bytes + tx.bytes.length > limits.maxBytes) return out;
        out.push(tx);
        bytes += tx.bytes.length;
        took = true;
        if (out.length >= limits.maxTxs) break;
      }
      if (!took) break;
    }
    return out;
  }

  /**
   * Whether some pending transaction could go in the next block: a sender
   * whose committed next nonce is pending. A transaction behind a nonce gap
   * is not, and must not make validators build empty blocks back to back.
   */
  async hasExecutable(): Promise<boolean> {
    for (const [sender, txs] of this.#bySender) {
      const next = (await this.#deps.accounts.getAccount(fromBytesKey(sender)))?.nonce ?? 0;
      if (txs.has(next)) return true;
    }
    return false;
  }

  /** Removes transactions that a committed block included; called on every head change, even with none. */
  removeCommitted(hashes: Iterable<Uint8Array>): void {
    this.#headEpoch++;
    let count = 0;
    for (const h of hashes) {
      count++;
      const entry = this.#byHash.get(bytesKey(h));
      if (entry) this.#remove(entry);
    }
    this.#backlog.committed(count, this.#deps.now());
  }

  /** How many pending transactions a client's submission may find now, and how many were shed so far. */
  clientBacklog(): { capacity: number; shed: number } {
    return { capacity: this.#backlog.capacity(this.#deps.now()), shed: this.#shedTotal };
  }

  /** The refusal for a client's transaction while the pool holds its backlog's worth, else null. */
  #shed(origin: TxOrigin, count = 1): TransactionError | null {
    if (origin !== "client") return null;
    const now = this.#deps.now();
    const capacity = this.#backlog.capacity(now);
    if (this.#byHash.size < capacity) return null;
    this.#shedTotal += count;
    const rate = this.#backlog.rate(now);
    return new TransactionError(
      "MEMPOOL_FULL",
      `The node holds ${this.#byHash.size} pending transactions, ${this.#options.maxBacklogSeconds} s of what the chain commits; retry shortly.`,
      {
        details: {
          size: this.#byHash.size,
          capacity,
          committedPerSecond: Math.round(rate),
          retryAfterMs: drainMs(this.#byHash.size - capacity + count, rate),
        },
      },
    );
  }

  /** Drops one transaction with a reason (e.g. it failed execution). */
  drop(entry: PendingTx, code: TransactionErrorCode, message: string): void {
    if (!this.#byHash.has(entry.key)) return;
    this.#remove(entry);
    for (const l of this.#dropListeners) l({ tx: entry, code, message });
  }

  /** Drops transactions whose nonce the sender has now used up (after a commit). */
  async dropStale(senders: Iterable<string>): Promise<void> {
    for (const sender of senders) {
      const txs = this.#bySender.get(sender);
      if (!txs) continue;
      const next = (await this.#deps.accounts.getAccount(fromBytesKey(sender)))?.nonce ?? 0;
      for (const [nonce, entry] of [...txs]) {
        if (nonce < next)
          this.drop(
            entry,
            "TX_NONCE_TOO_LOW",
            "Another transaction with this nonce was committed.",
          );
      }
    }
  }

  dropExpired(now: number): void {
    for (const entry of [...this.#byHash.values()]) {
      if (entry.stx.tx.expiresAt < now)
        this.drop(entry, "TX_EXPIRED", "Expired before it could be included.");
    }
  }

  #remove(entry: PendingTx): void {
    this.#byHash.delete(entry.key);
    const leaf = this.#leaves.get(entry.stx);
    if (leaf) this.#byLeaf.delete(bytesKey(leaf));
    this.#bytes -= entry.bytes.length;
    const txs = this.#bySender.get(entry.sender);
    txs?.delete(entry.stx.tx.nonce);
    if (txs && txs.size === 0) this.#bySender.delete(entry.sender);
  }
}
