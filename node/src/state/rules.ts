/**
 * The transaction rules, once: what makes a signed transaction valid against
 * a state, checked the same way when a block executes (state/ledger.ts) and
 * when the mempool admits it (mempool/mempool.ts), so a transaction the pool
 * takes is one a block can include, with the same codes and messages.
 * Pure: the caller reads the sender's account and passes it in.
 *
 *   chain id matches (TX_WRONG_CHAIN); `time` ≤ expiresAt (TX_EXPIRED);
 *   nonce from the sender's next one to `nonceWindow` − 1 ahead of it
 *   (TX_NONCE_TOO_LOW / _HIGH; executing, the window is 1: exactly the next).
 * Transfers: the sender exists (TX_UNKNOWN_ACCOUNT), amount > 0
 *   (TX_INVALID_AMOUNT), from protocol version 2 the recipient is not the
 *   sender (TX_SELF_TRANSFER), the balance covers it and whatever earlier
 *   transfers spend first (TX_INSUFFICIENT_BALANCE).
 * Validator votes: the sender is a member of the set signing the block
 *   (TX_NOT_VALIDATOR); a key given power passes the Ed25519 rule
 *   (TX_INVALID_VALIDATOR_KEY).
 *
 * Which rules apply is chosen here alone, by the protocol version of the
 * block (ctx.protocolVersion, from the genesis schedule: chain.ts
 * `protocolVersionAt`); execution passes the block's, admission the next
 * height's.
 *
 * What only execution can know stays there: the recipient's balance at that
 * point (its overflow check). Signatures are checked before (mempool
 * admission, block validation), because they are the expensive part.
 */
import {
  type Account,
  addressFromPublicKey,
  equalBytes,
  publicKeyViolation,
  type SignedTransaction,
  type Transaction,
  TransactionError,
  type TransactionErrorCode,
  type ValidatorSet,
} from "@edgeledger/sdk/protocol";

/**
 * The highest protocol version these rules implement. A genesis scheduling a
 * later one is refused at start (genesis.ts).
 *   1: the rules of every chain before versions existed.
 *   2: the toy rule change that exercises activation: a transfer to oneself
 *      (a no-op that costs a nonce) is refused.
 */
export const SUPPORTED_PROTOCOL_VERSION = 2;

/** The largest balance: amounts and balances are u128. */
export const MAX_AMOUNT = (1n << 128n) - 1n;

/** The chain, time and validator set a transaction is checked against. */
export interface RulesContext {
  readonly chainId: string;
  /** The block's time when executing; the clock when admitting. */
  readonly time: number;
  /** The set signing the block it goes in (admitting: the next height's). */
  readonly validators: ValidatorSet;
  /** The protocol version of the block it goes in (admitting: the next height's); absent: 1. */
  readonly protocolVersion?: number;
}

/** The sender as the transaction will find it. */
export interface SenderStanding {
  /** Its committed account (null: none yet). */
  readonly account: Account | null;
  /** Nonces from the account's next one up to this many ahead are accepted. Executing: 1. */
  readonly nonceWindow: number;
  /** What the sender's transfers before this one spend first (the mempool's pending run). */
  readonly spentBefore: bigint;
}

/** Throws the TransactionError `code` (the rules' and the pool's refusals). */
export function refuse(
  code: TransactionErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): never {
  throw new TransactionError(code, message, { details });
}

/**
 * The rules that need no state: chain and expiry. The mempool applies them
 * before a signature check (they are cheap); `checkTransaction` includes them.
 */
export function checkChainAndTime(
  tx: Transaction,
  ctx: Pick<RulesContext, "chainId" | "time">,
): void {
  if (tx.chainId !== ctx.chainId)
    refuse("TX_WRONG_CHAIN", `Transaction is for chain "${tx.chainId}", this is "${ctx.chainId}".`);
  if (ctx.time > tx.expiresAt)
    refuse("TX_EXPIRED", "Transaction expired; sign it again with a later expiresAt.", {
      expiresAt: tx.expiresAt,
      time: ctx.time,
    });
}

/** Throws the TransactionError saying why `stx` is not valid for `sender` in `ctx`. */
export function checkTransaction(
  stx: SignedTransaction,
  ctx: RulesContext,
  sender: SenderStanding,
): void {
  const { tx } = stx;
  checkChainAndTime(tx, ctx);
  const expected = sender.account?.nonce ?? 0;
  if (tx.nonce < expected)
    refuse("TX_NONCE_TOO_LOW", "Nonce already used: fetch the account's nonce and sign again.", {
      nonce: tx.nonce,
      expected,
    });
  if (tx.nonce >= expected + sender.nonceWindow)
    refuse(
      "TX_NONCE_TOO_HIGH",
      sender.nonceWindow === 1
        ? "Nonce is ahead of the account's next nonce."
        : `Nonce is ${sender.nonceWindow} or more ahead of the account's next nonce.`,
      { nonce: tx.nonce, expected },
    );
  const body = tx.body;
  if (body.kind === "transfer") {
    if (!sender.account)
      refuse("TX_UNKNOWN_ACCOUNT", "The sender's account does not exist: fund it first.");
    if (body.amount <= 0n) refuse("TX_INVALID_AMOUNT", "Transfer amount must be positive.");
    if ((ctx.protocolVersion ?? 1) >= 2 && equalBytes(addressFromPublicKey(tx.from), body.to))
      refuse(
        "TX_SELF_TRANSFER",
        "A transfer to its own sender is refused from protocol version 2.",
        {
          protocolVersion: ctx.protocolVersion,
        },
      );
    const needed = body.amount + sender.spentBefore;
    if (sender.account.balance < needed)
      refuse(
        "TX_INSUFFICIENT_BALANCE",
        sender.spentBefore === 0n
          ? "Balance is lower than the amount."
          : "Balance does not cover this transfer and the pending ones before it.",
        { balance: sender.account.balance.toString(), needed: needed.toString() },
      );
    return;
  }
  const refused = validatorVoteRefusal(tx.from, body, ctx.validators);
  if (refused) throw refused;
}

/**
 * Why a validator-set vote by `from` cannot execute against `validators`
 * (the set signing its block), or null: the voter must be a member, and a
 * key given power must pass the Ed25519 rule.
 */
function validatorVoteRefusal(
  from: Uint8Array,
  body: { readonly validator: Uint8Array; readonly power: bigint },
  validators: ValidatorSet,
): TransactionError | null {
  if (!validators.some((v) => equalBytes(v.publicKey, from)))
    return new TransactionError(
      "TX_NOT_VALIDATOR",
      "Only a current validator can vote on the validator set.",
    );
  // A key no signature can verify under the rule (non-canonical, small order)
  // would be a member whose votes nobody can count, or that backends disagree on.
  const violation = body.power > 0n ? publicKeyViolation(body.validator) : null;
  if (violation !== null)
    return new TransactionError(
      "TX_INVALID_VALIDATOR_KEY",
      "The validator key does not pass the Ed25519 rule.",
      { details: { violation } },
    );
  return null;
}
