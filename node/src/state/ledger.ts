/**
 * The state machine: the rules that turn a block's transactions into the
 * next ledger state. Pure and deterministic: the same parent state, block
 * time and transactions give the same changes and the same state root on
 * every node, in every run. Reads accounts through `AccountReader`; writes
 * nothing (the caller applies `changes` to the state tree).
 *
 * Rules for every transaction (each failure is a TransactionError code):
 *   chain id matches (TX_WRONG_CHAIN); block time ≤ expiresAt (TX_EXPIRED);
 *   nonce equals the sender's next nonce (TX_NONCE_TOO_LOW / _HIGH).
 * Transfers: the sender account exists (TX_UNKNOWN_ACCOUNT), amount > 0 and
 *   the recipient's balance stays below 2^128 (TX_INVALID_AMOUNT), balance
 *   covers the amount (TX_INSUFFICIENT_BALANCE).
 * Validator votes: the sender is a current validator (TX_NOT_VALIDATOR); the
 *   vote is stored in state under its own key (issue 4 applies votes).
 * Signatures are checked before a transaction gets here (mempool admission,
 * block validation), because they are the expensive part and cacheable.
 */
import {
  type Account,
  accountKey,
  addressFromPublicKey,
  bytesKey,
  encodeAccount,
  equalBytes,
  type SignedTransaction,
  TransactionError,
  taggedHash,
  type ValidatorSet,
} from "@edgeledger/sdk/protocol";

export const MAX_AMOUNT = (1n << 128n) - 1n;

export interface AccountReader {
  getAccount(address: Uint8Array): Promise<Account | null>;
}

export interface ExecutionContext {
  readonly chainId: string;
  readonly blockTime: number;
  readonly validators: ValidatorSet;
}

/** A batch of accounts read once and changed in memory while a block executes. */
export class PendingState {
  readonly #reader: AccountReader;
  readonly #accounts = new Map<
    string,
    { address: Uint8Array; account: Account | null; dirty: boolean }
  >();
  readonly #votes: [Uint8Array, Uint8Array][] = [];

  constructor(reader: AccountReader) {
    this.#reader = reader;
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

  recordVote(key: Uint8Array, value: Uint8Array): void {
    this.#votes.push([key, value]);
  }

  /** The state-tree changes: (key, encoded value) for every account or vote written. */
  changes(): [Uint8Array, Uint8Array][] {
    const out: [Uint8Array, Uint8Array][] = [];
    for (const { address, account, dirty } of this.#accounts.values()) {
      if (dirty && account) out.push([accountKey(address), encodeAccount(account)]);
    }
    return [...out, ...this.#votes];
  }

  /** Accounts as they stand now (for the mempool's view after a block). */
  touched(): { address: Uint8Array; account: Account | null }[] {
    return [...this.#accounts.values()].map(({ address, account }) => ({ address, account }));
  }
}

function reject(
  code: ConstructorParameters<typeof TransactionError>[0],
  message: string,
  details: Record<string, unknown> = {},
): never {
  throw new TransactionError(code, message, { details });
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
  if (tx.chainId !== ctx.chainId) {
    reject("TX_WRONG_CHAIN", `Transaction is for chain "${tx.chainId}", this is "${ctx.chainId}".`);
  }
  if (ctx.blockTime > tx.expiresAt) {
    reject(
      "TX_EXPIRED",
      "Transaction expired before it could be included; sign it again with a later expiresAt.",
      {
        expiresAt: tx.expiresAt,
        blockTime: ctx.blockTime,
      },
    );
  }
  const sender = addressFromPublicKey(tx.from);
  const account = await state.get(sender);
  const expectedNonce = account?.nonce ?? 0;
  if (tx.nonce < expectedNonce) {
    reject("TX_NONCE_TOO_LOW", "Nonce already used: fetch the account's nonce and sign again.", {
      nonce: tx.nonce,
      expected: expectedNonce,
    });
  }
  if (tx.nonce > expectedNonce) {
    reject("TX_NONCE_TOO_HIGH", "Nonce is ahead of the account's next nonce.", {
      nonce: tx.nonce,
      expected: expectedNonce,
    });
  }
  const body = tx.body;
  if (body.kind === "transfer") {
    if (!account)
      reject("TX_UNKNOWN_ACCOUNT", "The sender's account does not exist: fund it first.");
    if (body.amount <= 0n) reject("TX_INVALID_AMOUNT", "Transfer amount must be positive.");
    if (account.balance < body.amount) {
      reject("TX_INSUFFICIENT_BALANCE", "Balance is lower than the amount.", {
        balance: account.balance.toString(),
        amount: body.amount.toString(),
      });
    }
    const self = equalBytes(sender, body.to);
    const recipient = self ? account : await state.get(body.to);
    const recipientBalance = (recipient?.balance ?? 0n) + (self ? 0n : body.amount);
    if (recipientBalance > MAX_AMOUNT)
      reject("TX_INVALID_AMOUNT", "Recipient balance would overflow.");
    state.set(sender, {
      balance: account.balance - (self ? 0n : body.amount),
      nonce: account.nonce + 1,
    });
    if (!self) state.set(body.to, { balance: recipientBalance, nonce: recipient?.nonce ?? 0 });
    return;
  }
  if (!ctx.validators.some((v) => equalBytes(v.publicKey, tx.from))) {
    reject("TX_NOT_VALIDATOR", "Only a current validator can vote on the validator set.");
  }
  state.set(sender, { balance: account?.balance ?? 0n, nonce: expectedNonce + 1 });
  const power = new Uint8Array(8);
  new DataView(power.buffer).setBigUint64(0, body.power);
  state.recordVote(validatorVoteKey(tx.from, body.validator), power);
}
