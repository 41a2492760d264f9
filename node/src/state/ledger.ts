/**
 * The state machine: the rules that turn a block's transactions into the
 * next ledger state. Pure and deterministic: the same parent state, block
 * time and transactions give the same changes and the same state root on
 * every node, in every run. Reads accounts through `AccountReader`; writes
 * nothing (the caller applies `changes` to the state tree).
 *
 * The rules a transaction must meet are state/rules.ts's `checkTransaction`,
 * shared with mempool admission; here are their effects. A transfer moves
 * the amount (refused if the recipient's balance would pass u128,
 * TX_INVALID_AMOUNT, which only execution can know). A validator vote is
 * stored in state under validatorVoteKey(voter, validator), one live vote
 * per pair (a newer one replaces it); `tallyValidatorChanges` turns votes
 * into a new validator set at the end of the block. Both use the sender's
 * nonce.
 * Signatures are checked before a transaction gets here (mempool admission,
 * block validation), because they are the expensive part and cacheable.
 */
import {
  type Account,
  accountKey,
  addressFromPublicKey,
  bytesKey,
  compareBytes,
  encodeAccount,
  equalBytes,
  fromBytesKey,
  hasQuorum,
  MAX_VALIDATORS,
  type SignedTransaction,
  TransactionError,
  taggedHash,
  totalPower,
  type ValidatorSet,
} from "@edgeledger/sdk/protocol";
import { checkTransaction, MAX_AMOUNT } from "./rules.ts";

export interface AccountReader {
  getAccount(address: Uint8Array): Promise<Account | null>;
}

/** Accounts plus any other state key (votes, evidence records, the validator set). */
export interface StateReader extends AccountReader {
  getValue(key: Uint8Array): Promise<Uint8Array | null>;
}

export interface ExecutionContext {
  readonly chainId: string;
  readonly blockTime: number;
  readonly validators: ValidatorSet;
  /** The block's protocol version (rules.ts picks the rules by it); absent: 1. */
  readonly protocolVersion?: number;
}

/** A batch of accounts and values read once and changed in memory while a block executes. */
export class PendingState {
  readonly #reader: StateReader;
  readonly #accounts = new Map<
    string,
    { address: Uint8Array; account: Account | null; dirty: boolean }
  >();
  readonly #values = new Map<
    string,
    { key: Uint8Array; value: Uint8Array | null; dirty: boolean }
  >();
  /** The validators that votes in this block were about (bytesKey of their keys). */
  readonly votedAbout = new Set<string>();

  constructor(reader: StateReader) {
    this.#reader = reader;
  }

  async getValue(key: Uint8Array): Promise<Uint8Array | null> {
    const id = bytesKey(key);
    const cached = this.#values.get(id);
    if (cached) return cached.value;
    const value = await this.#reader.getValue(key);
    this.#values.set(id, { key, value, dirty: false });
    return value;
  }

  setValue(key: Uint8Array, value: Uint8Array): void {
    this.#values.set(bytesKey(key), { key, value, dirty: true });
  }

  async get(address: Uint8Array): Promise<Account | null> {
    const id = bytesKey(address);
    const cached = this.#accounts.get(id);
    if (cached) return cached.account;
    const account = await this.#reader.getAccount(address);
    this.#accounts.set(id, { address, account, dirty: false });
    return account;
  }

  set(address: Uint8Array, account: Account): void {
    this.#accounts.set(bytesKey(address), { address, account, dirty: true });
  }

  /** The state-tree changes: (key, encoded value) for every account or value written. */
  changes(): [Uint8Array, Uint8Array][] {
    const out: [Uint8Array, Uint8Array][] = [];
    for (const { address, account, dirty } of this.#accounts.values()) {
      if (dirty && account) out.push([accountKey(address), encodeAccount(account)]);
    }
    for (const { key, value, dirty } of this.#values.values()) {
      if (dirty && value) out.push([key, value]);
    }
    return out;
  }

  /** Accounts as they stand now (for the mempool's view after a block). */
  touched(): { address: Uint8Array; account: Account | null }[] {
    return [...this.#accounts.values()].map(({ address, account }) => ({ address, account }));
  }
}

/** The state key of a validator's vote about `validator` (one live vote per pair). */
export function validatorVoteKey(voter: Uint8Array, validator: Uint8Array): Uint8Array {
  return taggedHash("edgeledger/state/validator-vote/v1", voter, validator);
}

/**
 * Applies one transaction to `state`, or throws a TransactionError and
 * leaves `state` untouched.
 */
export async function applyTransaction(
  state: PendingState,
  stx: SignedTransaction,
  ctx: ExecutionContext,
): Promise<void> {
  const { tx } = stx;
  const sender = addressFromPublicKey(tx.from);
  const account = await state.get(sender);
  checkTransaction(
    stx,
    {
      chainId: ctx.chainId,
      time: ctx.blockTime,
      validators: ctx.validators,
      ...(ctx.protocolVersion !== undefined && { protocolVersion: ctx.protocolVersion }),
    },
    { account, nonceWindow: 1, spentBefore: 0n },
  );
  const body = tx.body;
  const nonce = (account?.nonce ?? 0) + 1;
  if (body.kind === "transfer") {
    // checkTransaction: the account exists and covers the amount.
    const from = account!;
    const self = equalBytes(sender, body.to);
    const recipient = self ? from : await state.get(body.to);
    const recipientBalance = (recipient?.balance ?? 0n) + (self ? 0n : body.amount);
    if (recipientBalance > MAX_AMOUNT)
      throw new TransactionError("TX_INVALID_AMOUNT", "Recipient balance would overflow.");
    state.set(sender, { balance: from.balance - (self ? 0n : body.amount), nonce });
    if (!self) state.set(body.to, { balance: recipientBalance, nonce: recipient?.nonce ?? 0 });
    return;
  }
  state.set(sender, { balance: account?.balance ?? 0n, nonce });
  state.setValue(validatorVoteKey(tx.from, body.validator), encodeU64(body.power));
  state.votedAbout.add(bytesKey(body.validator));
}

function encodeU64(value: bigint | number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** The state key holding the newest validator set adopted by votes (absent until one is). */
export const VALIDATOR_SET_KEY: Uint8Array = taggedHash("edgeledger/state/validator-set/v1");

/**
 * Validator-set changes voted in one block. For every validator Y that a
 * vote in this block was about: if members of `voters` (the set signing
 * this block) holding more than 2/3 of its power have live votes giving Y
 * the same power P, Y gets power P (0 removes it) in the set after `latest`
 * (the newest set already scheduled). Returns that new set, or null if
 * nothing changed. A change that would leave no validator, or more than
 * MAX_VALIDATORS, is not applied (the votes stay; other votes can still
 * change them). The caller schedules the set two heights after the block.
 */
export async function tallyValidatorChanges(
  state: PendingState,
  voters: ValidatorSet,
  latest: ValidatorSet,
): Promise<ValidatorSet | null> {
  const total = totalPower(voters);
  let next = [...latest];
  let changed = false;
  const subjects = [...state.votedAbout].map(fromBytesKey).sort(compareBytes);
  for (const subject of subjects) {
    const byPower = new Map<bigint, bigint>();
    for (const voter of voters) {
      const raw = await state.getValue(validatorVoteKey(voter.publicKey, subject));
      if (!raw) continue;
      const power = new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0);
      byPower.set(power, (byPower.get(power) ?? 0n) + voter.power);
    }
    for (const [power, support] of byPower) {
      if (!hasQuorum(support, total)) continue;
      const without = next.filter((v) => !equalBytes(v.publicKey, subject));
      const candidate =
        power === 0n
          ? without
          : [...without, { publicKey: subject, power }].sort((a, b) =>
              compareBytes(a.publicKey, b.publicKey),
            );
      if (candidate.length === 0 || candidate.length > MAX_VALIDATORS) continue;
      const same =
        candidate.length === next.length &&
        candidate.every(
          (v, i) => equalBytes(v.publicKey, next[i]!.publicKey) && v.power === next[i]!.power,
        );
      if (!same) {
        next = candidate;
        changed = true;
      }
    }
  }
  return changed ? next : null;
}

/** The state key of an evidence record, with the recording height as its value. */
export function evidenceRecord(height: number): Uint8Array {
  return encodeU64(height);
}
