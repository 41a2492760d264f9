/**
 * Scheduled activation of a protocol version: the genesis schedule (outside
 * the genesis hash), the version every block must carry, and
 * the toy rule of version 2 (a transfer to oneself is refused) applied by
 * admission for the next height and by execution for the block's, with the
 * old rule before the height and the new one at and after it.
 */
import { type Block, headerProtocolVersion, toHex } from "@edgeledger/sdk/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../config/errors.ts";
import type { PendingTx } from "../mempool/mempool.ts";
import { checkTransaction } from "../state/rules.ts";
import {
  addressOf,
  CHAIN,
  certifyAlone,
  codeOf,
  keyOf,
  loneValidatorGenesis,
  NOW,
  openTestChain,
  removeTestDirs,
  signed,
  transfer,
} from "../testing/fixtures.ts";
import type { Chain } from "./chain.ts";
import { type Genesis, genesisState, genesisToFile, parseGenesis } from "./genesis.ts";

afterEach(() => {
  vi.restoreAllMocks();
  removeTestDirs();
});

const validator = keyOf(9);
const ACTIVATION = 3;
const plain = loneValidatorGenesis(validator, NOW - 1000);
const scheduled: Genesis = { ...plain, upgrades: [{ height: ACTIVATION, version: 2 }] };

/** Account 1 pays itself: valid under version 1, refused from version 2. */
const selfTransfer = (nonce: number) => signed(keyOf(1), nonce, transfer(addressOf(1), 5n));
const otherTransfer = (nonce: number) => signed(keyOf(1), nonce, transfer(addressOf(2), 5n));

/** Builds and commits one block of `txs` on `chain` (the lone validator proposes). */
async function commitBlock(chain: Chain, txs: readonly PendingTx[]) {
  const built = await chain.buildBlock(txs, chain.nextTime(NOW), validator.publicKey);
  await chain.commit(built, certifyAlone(validator, built.block.header.height, built.blockHash));
  return built;
}

describe("genesis upgrade schedule", () => {
  const file = genesisToFile(plain);
  const parse = (upgrades: unknown) => parseGenesis({ ...file, upgrades }, "genesis.json");
  const refusal = (upgrades: unknown) => {
    try {
      parse(upgrades);
      return "ok";
    } catch (err) {
      return err instanceof ConfigError ? err.message : String(err);
    }
  };

  it("leaves the genesis hash alone (an activation can be added to a running chain)", () => {
    const before = toHex(genesisState(parseGenesis(file, "genesis.json")).hash);
    expect(toHex(genesisState(parse([])).hash)).toBe(before);
    expect(toHex(genesisState(parse([{ height: ACTIVATION, version: 2 }])).hash)).toBe(before);
    // The file round-trips, schedule included.
    expect(parseGenesis(genesisToFile(scheduled), "genesis.json").upgrades).toEqual(
      scheduled.upgrades,
    );
  });

  it("refuses a schedule out of order, malformed, or naming a version this build lacks", () => {
    expect(refusal({})).toMatch(/upgrades.*not a list/);
    expect(refusal([{ height: "3", version: 2 }])).toMatch(/upgrades\[0\]/);
    expect(refusal([{ height: 0, version: 2 }])).toMatch(/height/);
    expect(refusal([{ height: 3, version: 1 }])).toMatch(/version/);
    expect(refusal([{ height: 3, version: 3 }])).toMatch(/knows up to 2/);
    expect(refusal([{ height: 3, version: 2 }])).toBe("ok");
  });
});

describe("the toy rule of version 2", () => {
  it("refuses a self-transfer from version 2 only, with its own code", () => {
    const { stx } = selfTransfer(0);
    const ctx = { chainId: CHAIN, time: NOW, validators: scheduled.validators };
    const sender = { account: { balance: 100n, nonce: 0 }, nonceWindow: 1, spentBefore: 0n };
    expect(() => checkTransaction(stx, ctx, sender)).not.toThrow();
    expect(() => checkTransaction(stx, { ...ctx, protocolVersion: 1 }, sender)).not.toThrow();
    expect(() => checkTransaction(stx, { ...ctx, protocolVersion: 2 }, sender)).toThrow(
      expect.objectContaining({ code: "TX_SELF_TRANSFER" }),
    );
    const other = otherTransfer(0).stx;
    expect(() => checkTransaction(other, { ...ctx, protocolVersion: 2 }, sender)).not.toThrow();
  });
});

describe("scheduled activation", () => {
  it("admits and executes the old rule before the height, the new one at and after it", async () => {
    const a = await openTestChain(scheduled);
    expect([1, 2, 3, 4, 100].map((h) => a.chain.protocolVersionAt(h))).toEqual([1, 1, 2, 2, 2]);
    // Height 1 (version 1): a self-transfer is admitted and executes.
    const b1 = await commitBlock(a.chain, [await a.mempool.add(selfTransfer(0).bytes)]);
    expect(b1.failed).toEqual([]);
    expect(b1.block.txs).toHaveLength(1);
    expect(headerProtocolVersion(b1.block.header)).toBe(1);
    // Height 2 (version 1), still the old rule, for the pool and the block.
    const pending = await a.mempool.add(selfTransfer(1).bytes);
    const b2 = await commitBlock(a.chain, [pending]);
    expect(b2.block.txs).toHaveLength(1);
    // Next is height 3 (version 2): admission refuses it, another transfer passes.
    expect(await codeOf(a.mempool.add(selfTransfer(2).bytes))).toBe("TX_SELF_TRANSFER");
    const ok = await a.mempool.add(otherTransfer(2).bytes);
    // One admitted earlier (as the pool might hold across the height) fails in the block.
    const early = await poolEntry(selfTransfer(3).bytes);
    const b3 = await commitBlock(a.chain, [ok, early]);
    expect(headerProtocolVersion(b3.block.header)).toBe(2);
    expect(b3.block.txs).toHaveLength(1);
    expect(b3.failed.map((f) => f.error.code)).toEqual(["TX_SELF_TRANSFER"]);
    // Height 4: still refused.
    expect(await codeOf(a.mempool.add(selfTransfer(3).bytes))).toBe("TX_SELF_TRANSFER");
    await a.db.close();
  });

  it("a running chain's home takes an activation added to its genesis at a halt", async () => {
    const a = await openTestChain(plain);
    await commitBlock(a.chain, [await a.mempool.add(selfTransfer(0).bytes)]);
    const head = toHex(a.chain.head.hash);
    await a.db.close();
    const b = await openTestChain(
      { ...plain, upgrades: [{ height: 2, version: 2 }] },
      { dir: a.dir },
    );
    expect(toHex(b.chain.head.hash)).toBe(head);
    expect(toHex(b.chain.genesisHash)).toBe(toHex(a.chain.genesisHash));
    expect(await codeOf(b.mempool.add(selfTransfer(1).bytes))).toBe("TX_SELF_TRANSFER");
    const b2 = await commitBlock(b.chain, [await b.mempool.add(otherTransfer(1).bytes)]);
    expect(headerProtocolVersion(b2.block.header)).toBe(2);
    await b.db.close();
  });

  it("a validator refuses a block built with the old rule or the wrong version for its height", async () => {
    const proposer = await openTestChain(scheduled);
    const validatorChain = await openTestChain(scheduled);
    for (let h = 1; h < ACTIVATION; h++) {
      const built = await commitBlock(proposer.chain, []);
      await validatorChain.chain.commit(
        await validatorChain.chain.executeBlock(built.block),
        certifyAlone(validator, h, built.blockHash),
      );
    }
    // A proposer that ignores the schedule (an old binary, a wrong genesis).
    vi.spyOn(proposer.chain, "protocolVersionAt").mockReturnValue(1);
    const stale = await proposer.chain.buildBlock(
      [await poolEntry(selfTransfer(0).bytes)],
      proposer.chain.nextTime(NOW),
      validator.publicKey,
    );
    expect(stale.block.txs).toHaveLength(1);
    await expect(validatorChain.chain.executeBlock(stale.block)).rejects.toThrow(
      /protocol version 1, the schedule says 2/,
    );
    // Labelled version 2 but carrying what only version 1 allows.
    const relabelled: Block = {
      ...stale.block,
      header: { ...stale.block.header, protocolVersion: 2 },
    };
    expect(await codeOf(validatorChain.chain.executeBlock(relabelled))).toBe("TX_SELF_TRANSFER");
    // And a block naming version 2 before the height is refused too.
    const fresh = await openTestChain(scheduled);
    await expect(fresh.chain.executeBlock(await earlyVersion2Block())).rejects.toThrow(
      /protocol version 2, the schedule says 1/,
    );
    for (const c of [proposer, validatorChain, fresh]) await c.db.close();
  });
});

/** A pending entry for `bytes` from a throwaway pool of the plain chain (admitted under version 1). */
async function poolEntry(bytes: Uint8Array): Promise<PendingTx> {
  const c = await openTestChain(plain);
  const tx = await c.mempool.add(bytes);
  await c.db.close();
  return tx;
}

/** Height 1 of `scheduled` labelled version 2 (by a proposer whose version is forced to 2). */
async function earlyVersion2Block(): Promise<Block> {
  const c = await openTestChain(scheduled);
  vi.spyOn(c.chain, "protocolVersionAt").mockReturnValue(2);
  const built = await c.chain.buildBlock([], c.chain.nextTime(NOW), validator.publicKey);
  await c.db.close();
  return built.block;
}
