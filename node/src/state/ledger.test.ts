import {
  type Account,
  addressFromPublicKey,
  compareBytes,
  equalBytes,
  toHex,
  type ValidatorSet,
} from "@edgeledger/sdk/protocol";
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
import { applyTransaction, PendingState, tallyValidatorChanges } from "./ledger.ts";

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

  it("refuses to give power to a key no signature can verify under the rule", async () => {
    const v = keyOf(9);
    const state = new PendingState(new MemoryAccounts());
    // The identity point (y = 1) is small order; 0xff…ff is not a canonical y.
    const smallOrder = new Uint8Array(32);
    smallOrder[0] = 1;
    for (const [key, violation] of [
      [smallOrder, "PUBLIC_KEY_SMALL_ORDER"],
      [new Uint8Array(32).fill(0xff), "PUBLIC_KEY_NON_CANONICAL"],
    ] as const) {
      const stx = signed(v, 0, { kind: "validator-vote", validator: key, power: 1n }).stx;
      await expect(applyTransaction(state, stx, ctx)).rejects.toMatchObject({
        code: "TX_INVALID_VALIDATOR_KEY",
        details: { violation },
      });
    }
    expect(state.changes()).toEqual([]);
    // Removing such a key (power 0) is harmless and allowed.
    const remove = signed(v, 0, { kind: "validator-vote", validator: smallOrder, power: 0n }).stx;
    await applyTransaction(state, remove, ctx);
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

describe("state machine: validator-set votes", () => {
  const four = [1, 2, 3, 4].map((i) => keyOf(20 + i));
  const set = four
    .map((k) => ({ publicKey: k.publicKey, power: 1n }))
    .sort((a, b) => compareBytes(a.publicKey, b.publicKey));
  const vctx = { chainId: CHAIN, blockTime: NOW, validators: set };
  const newcomer = keyOf(30).publicKey;
  const voteBy = async (state: PendingState, voters: number[], who: Uint8Array, power: bigint) => {
    for (const i of voters)
      await applyTransaction(
        state,
        signed(four[i]!, (await state.get(addressFromPublicKey(four[i]!.publicKey)))?.nonce ?? 0, {
          kind: "validator-vote",
          validator: who,
          power,
        }).stx,
        vctx,
      );
  };
  const keys = (s: ValidatorSet | null) => s?.map((v) => toHex(v.publicKey)).sort() ?? null;

  it("adopts a change only with more than 2/3 of the power behind one value", async () => {
    const state = new PendingState(new MemoryAccounts());
    await voteBy(state, [0, 1], newcomer, 1n);
    expect(await tallyValidatorChanges(state, set, set)).toBeNull();
    await voteBy(state, [2], newcomer, 2n); // three votes, but split 2 / 1
    expect(await tallyValidatorChanges(state, set, set)).toBeNull();
    await voteBy(state, [2], newcomer, 1n); // the newer vote replaces the older one
    const next = await tallyValidatorChanges(state, set, set);
    expect(keys(next)).toEqual([...set.map((v) => toHex(v.publicKey)), toHex(newcomer)].sort());
  });

  it("removes with power 0, but never down to an empty set", async () => {
    const state = new PendingState(new MemoryAccounts());
    await voteBy(state, [0, 1, 2], set[3]!.publicKey, 0n);
    expect(keys(await tallyValidatorChanges(state, set, set))).toEqual(keys(set.slice(0, 3)));
    const alone = [set[0]!];
    const last = new PendingState(new MemoryAccounts());
    await voteBy(last, [0, 1, 2], set[0]!.publicKey, 0n);
    expect(await tallyValidatorChanges(last, set, alone)).toBeNull();
  });

  it("refuses votes from a key outside the set", async () => {
    const state = new PendingState(new MemoryAccounts());
    const outsider = signed(keyOf(31), 0, {
      kind: "validator-vote",
      validator: newcomer,
      power: 1n,
    });
    expect(await codeOf(applyTransaction(state, outsider.stx, vctx))).toBe("TX_NOT_VALIDATOR");
  });
});
