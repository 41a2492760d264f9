/**
 * One set of transaction rules: the mempool admits exactly what a block
 * would execute, refusing the rest with the same code and message.
 */
import { type TransactionBody, TransactionError } from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
import { describe, expect, it } from "vitest";
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
import { applyTransaction, PendingState } from "./ledger.ts";

const alice = keyOf(1);
const carol = keyOf(3);
const stranger = keyOf(5);
const validators = [{ publicKey: carol.publicKey, power: 1n }];
const smallOrder = new Uint8Array(32);
smallOrder[0] = 1;

const accounts = () =>
  new MemoryAccounts()
    .set(addressOf(1), { balance: 100n, nonce: 2 })
    .set(addressOf(3), { balance: 100n, nonce: 2 });

async function verdict(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (err instanceof TransactionError) return `${err.code}: ${err.message}`;
    throw err;
  }
}

describe("transaction rules", () => {
  it("admission and execution agree on every transaction, code and message alike", async () => {
    const bodies: TransactionBody[] = [
      ...[0n, 1n, 100n, 101n].map((amount) => transfer(addressOf(2), amount)),
      ...[keyOf(7).publicKey, smallOrder].flatMap((validator) =>
        [0n, 1n].map((power): TransactionBody => ({ kind: "validator-vote", validator, power })),
      ),
    ];
    let cases = 0;
    const verdicts = new Set<string>();
    for (const from of [alice, carol, stranger])
      for (const nonce of [0, 1, 2, 3])
        for (const chainId of [CHAIN, "other"])
          for (const expiresAt of [NOW - 1, NOW, NOW + 60_000])
            for (const body of bodies) {
              const { bytes, stx } = signed(from, nonce, body, { chainId, expiresAt });
              const pool = new Mempool(
                // Exactly the next nonce, as in a block; expiry policy out of the way.
                { nonceWindow: 1, maxExpiryMs: 10 * 60_000 },
                {
                  chainId: CHAIN,
                  verifier: createNativeVerifier(),
                  accounts: accounts(),
                  isKnown: () => false,
                  now: () => NOW,
                  nextValidators: () => validators,
                },
              );
              const admitted = await verdict(pool.add(bytes));
              const executed = await verdict(
                applyTransaction(new PendingState(accounts()), stx, {
                  chainId: CHAIN,
                  blockTime: NOW,
                  validators,
                }),
              );
              expect(admitted, `${nonce} ${chainId} ${expiresAt} ${body.kind}`).toBe(executed);
              verdicts.add(admitted.split(":")[0]!);
              cases++;
            }
    expect(cases).toBe(3 * 4 * 2 * 3 * bodies.length);
    // The cases reach every rule, and some pass.
    expect([...verdicts].sort()).toEqual([
      "TX_EXPIRED",
      "TX_INSUFFICIENT_BALANCE",
      "TX_INVALID_AMOUNT",
      "TX_INVALID_VALIDATOR_KEY",
      "TX_NONCE_TOO_HIGH",
      "TX_NONCE_TOO_LOW",
      "TX_NOT_VALIDATOR",
      "TX_UNKNOWN_ACCOUNT",
      "TX_WRONG_CHAIN",
      "ok",
    ]);
  });
});
