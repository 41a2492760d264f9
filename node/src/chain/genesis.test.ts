/**
 * Genesis with derived accounts: parsing and its errors, one state root for
 * every node (the in-memory build and the chunked database build agree),
 * the collision rule, and a restart that reads the root back.
 */
import {
  accountKey,
  decodeAccount,
  formatAddress,
  MemoryNodeStore,
  SparseMerkleTree,
  toHex,
} from "@edgeledger/sdk/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../config/errors.ts";
import { Database } from "../db/database.ts";
import {
  addressOf,
  keyOf,
  loneValidatorGenesis,
  NOW,
  openTestChain,
  removeTestDirs,
} from "../testing/fixtures.ts";
import { Chain } from "./chain.ts";
import {
  derivedAddress,
  type Genesis,
  genesisState,
  genesisToFile,
  MAX_DERIVED_ACCOUNTS,
  parseGenesis,
} from "./genesis.ts";
import { writeGenesisState } from "./genesisBuild.ts";

afterEach(removeTestDirs);

const SEED = "ab".repeat(32);
const base = genesisToFile(loneValidatorGenesis(keyOf(9), NOW - 1000));
const withDerived = (derivedAccounts: unknown): Record<string, unknown> => ({
  ...base,
  derivedAccounts,
});
const parse = (raw: unknown): Genesis => parseGenesis(raw, "genesis.json");

/** The chunked build into a memory store, `chunk` accounts at a time. */
async function chunkedRoot(g: Genesis, chunk: number): Promise<string> {
  const store = new MemoryNodeStore();
  const root = await writeGenesisState(
    g,
    new SparseMerkleTree(store),
    async (writes) => store.write(writes),
    chunk,
  );
  return toHex(root);
}

describe("derivedAccounts in genesis.json", () => {
  it("parses and writes back the same file", () => {
    const g = parse(withDerived({ seed: SEED, count: 300, balance: "1000" }));
    expect(g.derivedAccounts).toEqual({
      seed: Uint8Array.from({ length: 32 }, () => 0xab),
      count: 300,
      balance: 1000n,
    });
    expect(genesisToFile(g)).toEqual(withDerived({ seed: SEED, count: 300, balance: "1000" }));
    // A genesis without them is written as before (its hash does not move).
    expect(Object.keys(genesisToFile(parse(base)))).not.toContain("derivedAccounts");
  });

  it.each([
    ["not an object", 5, "derivedAccounts"],
    ["short seed", { seed: "ab", count: 1, balance: "1" }, "derivedAccounts.seed"],
    ["no seed", { count: 1, balance: "1" }, "derivedAccounts.seed"],
    ["zero count", { seed: SEED, count: 0, balance: "1" }, "derivedAccounts.count"],
    ["fractional count", { seed: SEED, count: 1.5, balance: "1" }, "derivedAccounts.count"],
    [
      "count above the bound",
      { seed: SEED, count: MAX_DERIVED_ACCOUNTS + 1, balance: "1" },
      "derivedAccounts.count",
    ],
    ["count as a string", { seed: SEED, count: "10", balance: "1" }, "derivedAccounts.count"],
    ["zero balance", { seed: SEED, count: 1, balance: "0" }, "derivedAccounts.balance"],
    ["numeric balance", { seed: SEED, count: 1, balance: 5 }, "derivedAccounts.balance"],
  ])("refuses %s with a ConfigError naming the key", (_, derived, key) => {
    let caught: unknown;
    try {
      parse(withDerived(derived));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).code).toBe("CONFIG_INVALID");
    expect((caught as ConfigError).details).toMatchObject({ key });
  });

  it("accepts the bound itself", () => {
    const g = parse(withDerived({ seed: SEED, count: MAX_DERIVED_ACCOUNTS, balance: "1" }));
    expect(g.derivedAccounts?.count).toBe(MAX_DERIVED_ACCOUNTS);
  });
});

describe("the derived genesis state", () => {
  const g = parse(withDerived({ seed: SEED, count: 500, balance: "7" }));

  it("is the same for two parses, and another for another seed or count", () => {
    const again = parse(JSON.parse(JSON.stringify(withDerived(genesisToFile(g).derivedAccounts))));
    expect(toHex(genesisState(again).header.stateRoot)).toBe(
      toHex(genesisState(g).header.stateRoot),
    );
    const otherSeed = parse(withDerived({ seed: "cd".repeat(32), count: 500, balance: "7" }));
    const fewer = parse(withDerived({ seed: SEED, count: 499, balance: "7" }));
    const roots = new Set(
      [g, otherSeed, fewer].map((x) => toHex(genesisState(x).header.stateRoot)),
    );
    expect(roots.size).toBe(3);
  });

  it("funds each derived address with the balance, next to the listed accounts", async () => {
    const { state } = genesisState(g);
    const store = new MemoryNodeStore();
    store.write(state.writes);
    const tree = new SparseMerkleTree(store);
    for (const i of [0, 1, 250, 499]) {
      const v = await tree.get(state.root, accountKey(derivedAddress(g.derivedAccounts!.seed, i)));
      expect(decodeAccount(v!)).toEqual({ balance: 7n, nonce: 0 });
    }
    const listed = await tree.get(state.root, accountKey(addressOf(1)));
    expect(decodeAccount(listed!)).toEqual({ balance: 1000n, nonce: 0 });
    expect(
      await tree.get(state.root, accountKey(derivedAddress(g.derivedAccounts!.seed, 500))),
    ).toBe(null);
  });

  it("has one root however the database build chunks it", async () => {
    const inMemory = toHex(genesisState(g).header.stateRoot);
    for (const chunk of [1, 7, 64, 10_000]) expect(await chunkedRoot(g, chunk)).toBe(inMemory);
    const listedOnly = parse(base);
    expect(await chunkedRoot(listedOnly, 3)).toBe(toHex(genesisState(listedOnly).header.stateRoot));
  });

  it("keeps the last balance of a listed address given twice, in both builds", async () => {
    const twice = parse({
      ...withDerived({ seed: SEED, count: 20, balance: "7" }),
      accounts: [...base.accounts, { ...base.accounts[0]!, balance: "5" }],
    });
    const once = parse({
      ...withDerived({ seed: SEED, count: 20, balance: "7" }),
      accounts: [{ ...base.accounts[0]!, balance: "5" }],
    });
    const root = toHex(genesisState(once).header.stateRoot);
    expect(toHex(genesisState(twice).header.stateRoot)).toBe(root);
    expect(await chunkedRoot(twice, 4)).toBe(root);
  });

  it("refuses a listed account that is also a derived one, in both builds", async () => {
    const seed = g.derivedAccounts!.seed;
    const clash = parse({
      ...withDerived({ seed: SEED, count: 50, balance: "7" }),
      accounts: [
        ...base.accounts,
        { address: formatAddress(derivedAddress(seed, 33)), balance: "1" },
      ],
    });
    expect(() => genesisState(clash)).toThrow(/derived account 33/);
    await expect(chunkedRoot(clash, 8)).rejects.toThrow(ConfigError);
    await expect(chunkedRoot(clash, 8)).rejects.toThrow(/derived account 33/);
  });
});

describe("Chain.init with derived accounts", () => {
  const g = parse(withDerived({ seed: SEED, count: 2_000, balance: "9" }));

  it("writes the state once and reads the root back on restart", async () => {
    const first = await openTestChain(g);
    const expected = genesisState(g);
    expect(toHex(first.chain.genesisHash)).toBe(toHex(expected.hash));
    const account = await first.chain
      .accountsAt()
      .getAccount(derivedAddress(g.derivedAccounts!.seed, 1999));
    expect(account).toEqual({ balance: 9n, nonce: 0 });
    await first.db.close();

    const db = new Database(first.dir);
    await db.open();
    const again = new Chain(db, g);
    await again.init();
    expect(toHex(again.genesisHash)).toBe(toHex(expected.hash));
    await db.close();

    // Another seed is another genesis: refused, as any other genesis is.
    const db2 = new Database(first.dir);
    await db2.open();
    const other = new Chain(
      db2,
      parse(withDerived({ seed: "cd".repeat(32), count: 2_000, balance: "9" })),
    );
    await expect(other.init()).rejects.toThrow(/belongs to genesis/);
    await db2.close();
  });
});
