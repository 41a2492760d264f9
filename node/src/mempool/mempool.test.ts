import { bytesKey, TransactionError, transactionHash } from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
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
import { drainMs } from "./backlog.ts";
import { type DropEvent, Mempool, type MempoolOptions } from "./mempool.ts";

const alice = keyOf(1);
const carol = keyOf(3);
const bob = addressOf(2);

function pool(options: Partial<MempoolOptions> = {}, known = new Set<string>()) {
  const accounts = new MemoryAccounts()
    .set(addressOf(1), { balance: 100n, nonce: 0 })
    .set(addressOf(3), { balance: 100n, nonce: 0 });
  const mempool = new Mempool(options, {
    chainId: CHAIN,
    verifier: createNativeVerifier(),
    accounts,
    isKnown: (h) => known.has(Buffer.from(h).toString("hex")),
    now: () => NOW,
    // Carol alone signs the next block.
    nextValidators: () => [{ publicKey: carol.publicKey, power: 1n }],
  });
  return { mempool, accounts };
}

describe("mempool admission", () => {
  it("refuses at admission a validator-set vote that could never execute", async () => {
    const { mempool: withSet } = pool();
    const vote = (from: typeof alice, validator: Uint8Array, power: bigint) =>
      signed(from, 0, { kind: "validator-vote", validator, power }).bytes;
    // Alice is not a validator: refused now, not admitted to hold her nonce and be dropped later.
    expect(await codeOf(withSet.add(vote(alice, keyOf(7).publicKey, 1n)))).toBe("TX_NOT_VALIDATOR");
    const smallOrder = new Uint8Array(32);
    smallOrder[0] = 1;
    expect(await codeOf(withSet.add(vote(carol, smallOrder, 1n)))).toBe("TX_INVALID_VALIDATOR_KEY");
    expect(await codeOf(withSet.add(vote(carol, keyOf(7).publicKey, 1n)))).toBe("ok");
  });

  it("a transaction committed while its admission read the account is not left pending", async () => {
    const accounts = new MemoryAccounts().set(addressOf(1), { balance: 100n, nonce: 0 });
    let hold: (() => void) | null = null;
    const slow = {
      getAccount: async (address: Uint8Array) => {
        const before = await accounts.getAccount(address);
        if (!hold) return before;
        // The first read is slow: a block commits the transaction meanwhile.
        await new Promise<void>((r) => {
          const go = hold!;
          hold = null;
          go();
          setTimeout(r, 10);
        });
        return before;
      },
    };
    const mempool = new Mempool(
      {},
      {
        chainId: CHAIN,
        verifier: createNativeVerifier(),
        accounts: slow,
        isKnown: () => true,
        now: () => NOW,
        nextValidators: () => [],
      },
    );
    const { bytes, stx } = signed(alice, 0, transfer(bob, 10n));
    const committed = new Promise<void>((r) => {
      hold = r;
    });
    const admission = codeOf(mempool.add(bytes));
    await committed;
    // The block with it commits: state moves on, and the head change reaches the pool.
    accounts.set(addressOf(1), { balance: 90n, nonce: 1 });
    mempool.removeCommitted([transactionHash(stx.tx)]);
    expect(await admission).toBe("TX_DUPLICATE");
    expect(mempool.size).toBe(0);
  });

  it("knows a transaction behind a nonce gap is not executable until the gap fills", async () => {
    const { mempool } = pool();
    expect(await mempool.hasExecutable()).toBe(false);
    expect(await codeOf(mempool.add(signed(alice, 1, transfer(bob, 1n)).bytes))).toBe("ok");
    expect(mempool.size).toBe(1);
    expect(await mempool.hasExecutable()).toBe(false);
    expect(await codeOf(mempool.add(signed(alice, 0, transfer(bob, 1n)).bytes))).toBe("ok");
    expect(await mempool.hasExecutable()).toBe(true);
  });

  it("a pending transaction's copy with a forged signature is refused as bad, not as a duplicate", async () => {
    const { mempool } = pool();
    const real = signed(alice, 0, transfer(bob, 10n)).bytes;
    expect(await codeOf(mempool.add(real))).toBe("ok");
    const forged = real.slice();
    forged[forged.length - 40]! ^= 1; // inside the signature
    expect(await codeOf(mempool.add(forged))).toBe("TX_BAD_SIGNATURE");
    const [result] = await mempool.addMany([forged], "gossip");
    expect((result as TransactionError).code).toBe("TX_BAD_SIGNATURE");
    expect(await codeOf(mempool.add(real))).toBe("TX_DUPLICATE");
  });

  it("admits a valid transfer and refuses bad input, each with its own code", async () => {
    const { mempool } = pool();
    expect(await codeOf(mempool.add(signed(alice, 0, transfer(bob, 10n)).bytes))).toBe("ok");
    const good = signed(alice, 1, transfer(bob, 10n)).bytes;
    const badSig = good.slice();
    badSig[badSig.length - 40]! ^= 1;
    const cases: [string, Uint8Array][] = [
      ["TX_MALFORMED", Uint8Array.of(1, 2, 3)],
      ["TX_MALFORMED", Uint8Array.from([...good, 0])],
      ["TX_TOO_LARGE", new Uint8Array(5000)],
      ["TX_BAD_SIGNATURE", badSig],
      ["TX_WRONG_CHAIN", signed(alice, 1, transfer(bob, 1n), { chainId: "other" }).bytes],
      ["TX_EXPIRED", signed(alice, 1, transfer(bob, 1n), { expiresAt: NOW - 1 }).bytes],
      [
        "TX_EXPIRY_TOO_FAR",
        signed(alice, 1, transfer(bob, 1n), { expiresAt: NOW + 10 * 3_600_000 }).bytes,
      ],
      ["TX_DUPLICATE", signed(alice, 0, transfer(bob, 10n)).bytes],
      ["TX_DUPLICATE", signed(alice, 0, transfer(bob, 11n)).bytes],
      ["TX_NONCE_TOO_HIGH", signed(alice, 300, transfer(bob, 1n)).bytes],
      ["TX_INSUFFICIENT_BALANCE", signed(alice, 1, transfer(bob, 91n)).bytes],
      ["TX_UNKNOWN_ACCOUNT", signed(keyOf(8), 0, transfer(bob, 1n)).bytes],
      ["TX_INVALID_AMOUNT", signed(alice, 1, transfer(bob, 0n)).bytes],
    ];
    for (const [code, bytes] of cases) expect(await codeOf(mempool.add(bytes)), code).toBe(code);
    expect(mempool.size).toBe(1);
  });

  it("refuses a nonce the account already used, and a hash the chain already has", async () => {
    const { mempool, accounts } = pool();
    accounts.set(addressOf(1), { balance: 100n, nonce: 5 });
    expect(await codeOf(mempool.add(signed(alice, 4, transfer(bob, 1n)).bytes))).toBe(
      "TX_NONCE_TOO_LOW",
    );
    const tx = signed(alice, 5, transfer(bob, 1n));
    const known = new Set([
      Buffer.from((await import("@edgeledger/sdk/protocol")).transactionHash(tx.stx.tx)).toString(
        "hex",
      ),
    ]);
    const { mempool: m2, accounts: a2 } = pool({}, known);
    a2.set(addressOf(1), { balance: 100n, nonce: 6 }); // nonce 5 is used: by this very transaction
    expect(await codeOf(m2.add(tx.bytes))).toBe("TX_DUPLICATE");
  });

  it("enforces per-account and total limits with clear errors", async () => {
    const { mempool } = pool({ maxPerAccount: 2, maxTxs: 3 });
    await mempool.add(signed(alice, 0, transfer(bob, 1n)).bytes);
    await mempool.add(signed(alice, 1, transfer(bob, 1n)).bytes);
    expect(await codeOf(mempool.add(signed(alice, 2, transfer(bob, 1n)).bytes))).toBe(
      "MEMPOOL_ACCOUNT_LIMIT",
    );
    await mempool.add(signed(carol, 0, transfer(bob, 1n)).bytes);
    expect(await codeOf(mempool.add(signed(carol, 1, transfer(bob, 1n)).bytes))).toBe(
      "MEMPOOL_FULL",
    );
  });
});

describe("mempool batches", () => {
  it("admits each transaction of a batch on its own, verifying signatures on worker threads", async () => {
    const { createVerifierPool } = await import("@edgeledger/sdk/protocol/node");
    const verifierPool = createVerifierPool({ threads: 2 });
    try {
      const accounts = new MemoryAccounts().set(addressOf(1), { balance: 100n, nonce: 0 });
      const mempool = new Mempool(
        {},
        {
          chainId: CHAIN,
          verifier: createNativeVerifier(),
          verifierPool,
          accounts,
          isKnown: () => false,
          now: () => NOW,
          nextValidators: () => [],
        },
      );
      const good = signed(alice, 0, transfer(bob, 10n)).bytes;
      const badSig = signed(alice, 1, transfer(bob, 10n)).bytes;
      badSig[badSig.length - 40]! ^= 1;
      const results = await mempool.addMany([
        good,
        Uint8Array.of(1),
        badSig,
        good,
        signed(alice, 1, transfer(bob, 10n)).bytes,
      ]);
      expect(results.map((r) => (r instanceof TransactionError ? r.code : "ok"))).toEqual([
        "ok",
        "TX_MALFORMED",
        "TX_BAD_SIGNATURE",
        "TX_DUPLICATE",
        "ok",
      ]);
      expect(mempool.size).toBe(2);
    } finally {
      await verifierPool.close();
    }
  });
});

describe("mempool ordering and removal", () => {
  it("reaps consecutive nonces per sender, senders in turn, and stops at a gap", async () => {
    const { mempool } = pool();
    await mempool.add(signed(alice, 1, transfer(bob, 1n)).bytes);
    await mempool.add(signed(alice, 0, transfer(bob, 1n)).bytes);
    await mempool.add(signed(alice, 3, transfer(bob, 1n)).bytes); // gap at 2
    await mempool.add(signed(carol, 0, transfer(bob, 1n)).bytes);
    const reaped = await mempool.reap({ maxTxs: 100, maxBytes: 1 << 20 });
    expect(
      reaped.map((t) => [t.sender === bytesKey(addressOf(1)) ? "a" : "c", t.stx.tx.nonce]),
    ).toEqual([
      ["a", 0],
      ["c", 0],
      ["a", 1],
    ]);
    expect(await mempool.reap({ maxTxs: 2, maxBytes: 1 << 20 })).toHaveLength(2);
  });

  it("removes committed transactions and drops stale and expired ones with a reason", async () => {
    const { mempool, accounts } = pool();
    const drops: DropEvent[] = [];
    mempool.onDrop((e) => drops.push(e));
    const a0 = await mempool.add(signed(alice, 0, transfer(bob, 1n)).bytes);
    await mempool.add(signed(alice, 1, transfer(bob, 1n)).bytes);
    await mempool.add(signed(carol, 0, transfer(bob, 1n), { expiresAt: NOW + 10 }).bytes);
    mempool.removeCommitted([a0.hash]);
    accounts.set(addressOf(1), { balance: 99n, nonce: 2 }); // nonce 1 was used by another tx
    await mempool.dropStale([bytesKey(addressOf(1))]);
    mempool.dropExpired(NOW + 11);
    expect(drops.map((d) => d.code).sort()).toEqual(["TX_EXPIRED", "TX_NONCE_TOO_LOW"]);
    expect(mempool.size).toBe(0);
    expect(mempool.bytes).toBe(0);
  });
});

describe("mempool client backlog", () => {
  function clocked(options: Partial<MempoolOptions>) {
    const clock = { now: NOW };
    const accounts = new MemoryAccounts()
      .set(addressOf(1), { balance: 1000n, nonce: 0 })
      .set(addressOf(3), { balance: 1000n, nonce: 0 });
    const mempool = new Mempool(options, {
      chainId: CHAIN,
      verifier: createNativeVerifier(),
      accounts,
      isKnown: () => false,
      now: () => clock.now,
      nextValidators: () => [{ publicKey: carol.publicKey, power: 1n }],
    });
    return { mempool, clock };
  }

  it("sheds clients past the backlog, with the figures, but still admits peers' gossip", async () => {
    const { mempool } = clocked({ maxBacklogSeconds: 5, minBacklogTxs: 3 });
    for (let n = 0; n < 3; n++)
      expect(await codeOf(mempool.add(signed(alice, n, transfer(bob, 1n)).bytes, "client"))).toBe(
        "ok",
      );
    const refused = await mempool
      .add(signed(alice, 3, transfer(bob, 1n)).bytes, "client")
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransactionError);
    expect(refused).toMatchObject({ code: "MEMPOOL_FULL", details: { size: 3, capacity: 3 } });
    // A batch finding the pool full is refused whole, each with the same reason.
    const batch = await mempool.addMany(
      [signed(carol, 0, transfer(bob, 1n)).bytes, signed(carol, 1, transfer(bob, 1n)).bytes],
      "client",
    );
    expect(batch.map((r) => (r instanceof TransactionError ? r.code : "ok"))).toEqual([
      "MEMPOOL_FULL",
      "MEMPOOL_FULL",
    ]);
    // Gossip and pulls are admitted up to the hard bound.
    expect(await codeOf(mempool.add(signed(carol, 0, transfer(bob, 1n)).bytes, "gossip"))).toBe(
      "ok",
    );
    expect(await codeOf(mempool.add(signed(carol, 1, transfer(bob, 1n)).bytes, "local"))).toBe(
      "ok",
    );
    expect(mempool.size).toBe(5);
    // What the metrics read: the bound now, and every client transaction shed (1 + a batch of 2).
    expect(mempool.clientBacklog()).toEqual({ capacity: 3, shed: 3 });
  });

  it("a batch fills the backlog and the rest of it is refused", async () => {
    const { mempool } = clocked({ maxBacklogSeconds: 5, minBacklogTxs: 2 });
    const results = await mempool.addMany(
      [0, 1, 2, 3].map((n) => signed(alice, n, transfer(bob, 1n)).bytes),
      "client",
    );
    expect(results.map((r) => (r instanceof TransactionError ? r.code : "ok"))).toEqual([
      "ok",
      "ok",
      "MEMPOOL_FULL",
      "MEMPOOL_FULL",
    ]);
  });

  it("lets clients queue more as the chain commits faster", async () => {
    const { mempool, clock } = clocked({ maxBacklogSeconds: 5, minBacklogTxs: 2 });
    // Heads committing 10 transactions every 500 ms: 20/s, so 100 may wait.
    const fake = (n: number) => Array.from({ length: n }, (_, i) => new Uint8Array(32).fill(i));
    for (let i = 0; i < 10; i++) {
      clock.now += 500;
      mempool.removeCommitted(fake(10));
    }
    for (let n = 0; n < 5; n++)
      expect(await codeOf(mempool.add(signed(alice, n, transfer(bob, 1n)).bytes, "client"))).toBe(
        "ok",
      );
  });

  it("tells a shed client how long the backlog takes to drain at the measured rate", async () => {
    const { mempool, clock } = clocked({ maxBacklogSeconds: 5, minBacklogTxs: 2 });
    const refusedAfter = async (nonce: number) =>
      (await mempool
        .add(signed(alice, nonce, transfer(bob, 1n)).bytes, "client")
        .catch((e: unknown) => e)) as TransactionError;
    for (let n = 0; n < 2; n++)
      await mempool.add(signed(alice, n, transfer(bob, 1n)).bytes, "client");
    // Nothing committed yet: the rate is unknown, so the hint is the floor (a block's time).
    expect((await refusedAfter(2)).details).toMatchObject({ retryAfterMs: 1_000 });
    // 1 transaction committed every 2 s (0.1/s over the window): the pool of 2 takes longer to drain.
    const fake = (i: number) => [new Uint8Array(32).fill(i)];
    for (let i = 0; i < 5; i++) {
      clock.now += 2_000;
      mempool.removeCommitted(fake(i));
    }
    const slow = (await refusedAfter(2)).details["retryAfterMs"] as number;
    expect(slow).toBeGreaterThan(1_000);
    expect(slow).toBeLessThanOrEqual(30_000);
  });
});

describe("drainMs", () => {
  it("is the excess over the rate, from 1 s to 30 s", () => {
    expect(drainMs(500, 100)).toBe(5_000);
    expect(drainMs(1, 1_000)).toBe(1_000);
    expect(drainMs(10_000, 1)).toBe(30_000);
    expect(drainMs(10, 0)).toBe(1_000);
    expect(drainMs(10, Number.NaN)).toBe(1_000);
    expect(drainMs(-3, 1)).toBe(1_000);
  });
});
