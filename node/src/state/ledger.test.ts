import { type Account, equalBytes, toHex } from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import {
  addressOf,
  CHAIN,
  codeOf,
  keyOf,
  MemoryAccounts,
  NOW,
  signed,
  transfer,
} from "../testing/fixtures.ts";
import { applyTransaction, PendingState } from "./ledger.ts";

const alice = keyOf(1);
const bob = addressOf(2);
const validators = [{ publicKey: keyOf(9).publicKey, power: 1n }];
const ctx = { chainId: CHAIN, blockTime: NOW, validators };

function stateWith(balance: bigint, nonce = 0) {
  return new PendingState(new MemoryAccounts().set(addressOf(1), { balance, nonce }));
}

describe("state machine: transfers", () => {
  it("moves funds and bumps the sender's nonce", async () => {
    const state = stateWith(100n);
    await applyTransaction(state, signed(alice, 0, transfer(bob, 30n)).stx, ctx);
    expect(await state.get(addressOf(1))).toEqual({ balance: 70n, nonce: 1 });
    expect(await state.get(bob)).toEqual({ balance: 30n, nonce: 0 });
    expect(state.changes()).toHaveLength(2);
  });

  it("refuses each invalid transfer with its own code and changes nothing", async () => {
    const cases: [string, Parameters<typeof signed>, Partial<typeof ctx>?][] = [
      ["TX_WRONG_CHAIN", [alice, 0, transfer(bob, 1n), { chainId: "other" }]],
      ["TX_EXPIRED", [alice, 0, transfer(bob, 1n), { expiresAt: NOW - 1 }]],
      ["TX_NONCE_TOO_LOW", [alice, 0, transfer(bob, 1n)], {}],
      ["TX_NONCE_TOO_HIGH", [alice, 9, transfer(bob, 1n)]],
      ["TX_INVALID_AMOUNT", [alice, 3, transfer(bob, 0n)]],
      ["TX_INSUFFICIENT_BALANCE", [alice, 3, transfer(bob, 101n)]],
      ["TX_UNKNOWN_ACCOUNT", [keyOf(5), 0, transfer(bob, 1n)]],
      [
        "TX_NOT_VALIDATOR",
        [alice, 3, { kind: "validator-vote", validator: keyOf(7).publicKey, power: 1n }],
      ],
    ];
    for (const [code, args] of cases) {
      const state = stateWith(100n, code === "TX_NONCE_TOO_LOW" ? 1 : 3);
      const before = await state.get(addressOf(1));
      expect(await codeOf(applyTransaction(state, signed(...args).stx, ctx)), code).toBe(code);
      expect(await state.get(addressOf(1))).toEqual(before);
      expect(state.changes()).toEqual([]);
    }
  });

  it("is deterministic: the same transactions give the same changes", async () => {
    const run = async () => {
      const state = stateWith(1000n);
      for (let n = 0; n < 5; n++)
        await applyTransaction(
          state,
          signed(alice, n, transfer(addressOf(10 + n), BigInt(n + 1))).stx,
          ctx,
        );
      return state.changes().map(([k, v]) => `${toHex(k)}=${toHex(v)}`);
    };
    expect(await run()).toEqual(await run());
  });

  it("a transfer to oneself only bumps the nonce", async () => {
    const state = stateWith(50n);
    await applyTransaction(state, signed(alice, 0, transfer(addressOf(1), 20n)).stx, ctx);
    expect(await state.get(addressOf(1))).toEqual({ balance: 50n, nonce: 1 } satisfies Account);
  });

  it("records a validator's vote in state", async () => {
    const v = keyOf(9);
    const state = new PendingState(new MemoryAccounts());
    await applyTransaction(
      state,
      signed(v, 0, { kind: "validator-vote", validator: keyOf(7).publicKey, power: 5n }).stx,
      ctx,
    );
    const changes = state.changes();
    expect(changes).toHaveLength(2);
    expect(
      changes.some(([, value]) => equalBytes(value, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 5))),
    ).toBe(true);
  });
});
