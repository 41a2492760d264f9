import {
  type ConsensusMessage,
  equalBytes,
  proposalDigest,
  proposerIndex,
  toHex,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import { nativeSigner } from "@edgeledger/sdk/protocol/node";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  addressOf,
  CHAIN,
  certifyAlone,
  keyOf,
  loneValidatorGenesis,
  openTestChain,
  removeTestDirs,
  signed,
  transfer,
} from "../testing/fixtures.ts";
import { ConsensusDriver } from "./driver.ts";
import { LocalSigningGuard, type SigningGuard } from "./signingGuard.ts";

const validator = keyOf(9);
const genesis = loneValidatorGenesis(validator, Date.now() - 1000);
afterEach(removeTestDirs);

describe("consensus driver", () => {
  it("moves on when block sync commits its height while it gathers a batch", async () => {
    const { db, chain, mempool } = await openTestChain(genesis, { now: Date.now });
    const driver = new ConsensusDriver(
      // A long batch wait, so the sync commit surely lands inside it.
      { batchDelayMs: 300, heartbeatMs: 600_000 },
      {
        chain,
        mempool,
        guard: new LocalSigningGuard(db, nativeSigner(validator), CHAIN),
        log: pino({ level: "silent" }),
        now: Date.now,
      },
    );
    // Height 1 as block sync would bring it: built elsewhere, committed past the driver.
    const elsewhere = await chain.buildBlock([], chain.nextTime(Date.now()), validator.publicKey);
    const tx = await mempool.add(
      signed(keyOf(1), 0, transfer(addressOf(2), 5n), { expiresAt: Date.now() + 60_000 }).bytes,
    );
    driver.start();
    await new Promise((r) => setTimeout(r, 50)); // the driver is now in its batch wait for height 1
    await chain.commit(
      elsewhere,
      certifyAlone(validator, elsewhere.block.header.height, elsewhere.blockHash),
    );
    // It must go on to height 2 and commit the pending transaction there.
    const deadline = Date.now() + 5000;
    while (db.getTx(tx.hash)?.status !== "committed" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(db.getTx(tx.hash)).toMatchObject({ status: "committed", height: 2 });
    await driver.stop();
    await db.close();
  });
});

describe("consensus driver with a key named late", () => {
  it("joins the height it is in when the guard names its key, instead of sitting it out", async () => {
    const { db, chain, mempool } = await openTestChain(genesis, { now: Date.now });
    const local = new LocalSigningGuard(db, nativeSigner(validator), CHAIN);
    // A remote signer down at start: no key (zeros) until it connects.
    let named = false;
    const late: SigningGuard = {
      get publicKey() {
        return named ? local.publicKey : new Uint8Array(32);
      },
      resume: (h) => local.resume(h),
      rememberValid: (h, v) => local.rememberValid(h, v),
      proposedBlock: (h) => local.proposedBlock(h),
      signProposal: (p, b) => local.signProposal(p, b),
      signVote: (v, valid) => local.signVote(v, valid),
    };
    const driver = new ConsensusDriver(
      { batchDelayMs: 20, heartbeatMs: 600_000 },
      { chain, mempool, guard: late, log: pino({ level: "silent" }), now: Date.now },
    );
    const tx = await mempool.add(
      signed(keyOf(1), 0, transfer(addressOf(2), 5n), { expiresAt: Date.now() + 60_000 }).bytes,
    );
    driver.start();
    await new Promise((r) => setTimeout(r, 200)); // height 1 started without the key
    expect(chain.head.height).toBe(0);
    named = true;
    driver.keyNamed();
    // The lone validator is the whole set: height 1 commits only if it now takes part.
    const deadline = Date.now() + 5000;
    while (db.getTx(tx.hash)?.status !== "committed" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(db.getTx(tx.hash)).toMatchObject({ status: "committed", height: 1 });
    await driver.stop();
    await db.close();
  });
});

describe("consensus driver phases", () => {
  it("reports where each height it commits spent its time, and nothing for one block sync committed", async () => {
    const { db, chain, mempool } = await openTestChain(genesis, { now: Date.now });
    const phases: { height: number; phase: string }[] = [];
    const driver = new ConsensusDriver(
      { batchDelayMs: 200, heartbeatMs: 600_000 },
      {
        chain,
        mempool,
        guard: new LocalSigningGuard(db, nativeSigner(validator), CHAIN),
        log: pino({ level: "silent" }),
        now: Date.now,
        onPhase: (phase) => phases.push({ height: chain.head.height, phase }),
      },
    );
    const elsewhere = await chain.buildBlock([], chain.nextTime(Date.now()), validator.publicKey);
    const tx = await mempool.add(
      signed(keyOf(1), 0, transfer(addressOf(2), 5n), { expiresAt: Date.now() + 60_000 }).bytes,
    );
    driver.start();
    await new Promise((r) => setTimeout(r, 50)); // in the batch wait for height 1
    await chain.commit(
      elsewhere,
      certifyAlone(validator, elsewhere.block.header.height, elsewhere.blockHash),
    );
    const deadline = Date.now() + 5000;
    while (db.getTx(tx.hash)?.status !== "committed" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await driver.stop();
    // Height 1 came by block sync: no sample. Height 2, its own: every phase once, in order.
    expect(phases.every((p) => p.height === 2)).toBe(true);
    expect(phases.map((p) => p.phase)).toEqual([
      "wait",
      "proposal",
      "execute",
      "prevote",
      "prevotes",
      "precommits",
      "commit",
    ]);
    await db.close();
  });
});

describe("consensus driver under a flood", () => {
  it("executes a proposed block once however often it arrives, and a round ahead's not before it gets there", async () => {
    const keys = [40, 41, 42, 43].map(keyOf);
    const genesis = {
      chainId: CHAIN,
      time: Date.now() - 1000,
      validators: keys
        .map((k) => ({ publicKey: k.publicKey, power: 1n }))
        .sort((a, b) => Buffer.compare(a.publicKey, b.publicKey)),
      accounts: [{ address: addressOf(1), balance: 1000n }],
    };
    const { db, chain, mempool } = await openTestChain(genesis, { now: Date.now });
    const validators = chain.validatorsAt(1);
    const keyAt = (round: number) => {
      const pk = validators[proposerIndex(validators, 1, round)]!.publicKey;
      return keys.find((k) => equalBytes(k.publicKey, pk))!;
    };
    // We are a validator that proposes neither round 0 nor round 3.
    const self = keys.find((k) => k !== keyAt(0) && k !== keyAt(3))!;
    const driver = new ConsensusDriver(
      { batchDelayMs: 0, heartbeatMs: 600_000 },
      {
        chain,
        mempool,
        guard: new LocalSigningGuard(db, nativeSigner(self), CHAIN),
        log: pino({ level: "silent" }),
        now: Date.now,
        timeouts: { proposeMs: 60_000, prevoteMs: 60_000, precommitMs: 60_000 },
      },
    );
    const executed = vi.spyOn(chain, "executeBlock");
    const proposalOf = async (round: number): Promise<ConsensusMessage> => {
      const key = keyAt(round);
      const built = await chain.buildBlock([], chain.nextTime(Date.now()), key.publicKey);
      const proposal = {
        height: 1,
        round,
        polRound: null,
        blockHash: built.blockHash,
        proposer: key.publicKey,
      };
      const signature = nativeSigner(key).signSync(proposalDigest(CHAIN, proposal));
      return {
        kind: "proposal",
        proposal: { proposal, signature },
        block: built.block,
        polVotes: [],
      };
    };
    const round0 = await proposalOf(0);
    const round3 = await proposalOf(3);
    driver.start();
    for (let i = 0; i < 40; i++) {
      driver.receive(round0, 300);
      driver.receive(round3, 300);
    }
    const deadline = Date.now() + 5000;
    while (executed.mock.calls.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    // Round 0's block once; round 3's not at all while we are in round 0.
    expect(executed).toHaveBeenCalledTimes(1);
    expect(driver.messagesFor(1).filter((m) => m.kind === "proposal")).toHaveLength(1);
    await driver.stop();
    await db.close();
  });
});

describe("consensus driver after a restart", () => {
  it("re-proposes the valid value the guard kept, with its polka, and commits it", async () => {
    const { db, chain, mempool } = await openTestChain(genesis, { now: Date.now });
    const guard = new LocalSigningGuard(db, nativeSigner(validator), CHAIN);
    // Before the "crash": a block with a polka in round 2 at height 1, kept as the valid value.
    const built = await chain.buildBlock([], chain.nextTime(Date.now()), validator.publicKey);
    const prevote = {
      type: "prevote" as const,
      height: 1,
      round: 2,
      blockHash: built.blockHash,
      validator: validator.publicKey,
    };
    const polka = [
      { vote: prevote, signature: nativeSigner(validator).signSync(voteDigest(CHAIN, prevote)) },
    ];
    await guard.rememberValid(1, {
      round: 2,
      blockHash: built.blockHash,
      blockBytes: built.blockBytes,
      polVotes: polka,
    });
    const proposals: { polRound: number | null; blockHash: Uint8Array; polVotes: number }[] = [];
    const driver = new ConsensusDriver(
      { batchDelayMs: 0, heartbeatMs: 0 },
      {
        chain,
        mempool,
        guard,
        log: pino({ level: "silent" }),
        now: Date.now,
        broadcast: {
          proposal: (p, _block, polVotes) =>
            proposals.push({
              polRound: p.proposal.polRound,
              blockHash: p.proposal.blockHash,
              polVotes: polVotes.length,
            }),
          vote: () => undefined,
        },
      },
    );
    driver.start();
    const deadline = Date.now() + 5000;
    while (chain.head.height < 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await driver.stop();
    // The lone validator leads every round: it proposes the kept block, not a new one.
    expect(proposals[0]).toMatchObject({ polRound: 2, polVotes: 1 });
    expect(toHex(proposals[0]!.blockHash)).toBe(toHex(built.blockHash));
    expect(toHex(db.getCertificate(1)!.blockHash)).toBe(toHex(built.blockHash));
    await db.close();
  });
});

describe("consensus driver and unexecutable transactions", () => {
  it("builds no block while the only pending transaction waits behind a nonce gap", async () => {
    const { db, chain, mempool } = await openTestChain(genesis, { now: Date.now });
    const driver = new ConsensusDriver(
      { batchDelayMs: 0, heartbeatMs: 600_000 },
      {
        chain,
        mempool,
        guard: new LocalSigningGuard(db, nativeSigner(validator), CHAIN),
        log: pino({ level: "silent" }),
        now: Date.now,
      },
    );
    const tx = (nonce: number) =>
      signed(keyOf(1), nonce, transfer(addressOf(2), 5n), { expiresAt: Date.now() + 60_000 }).bytes;
    const gapped = await mempool.add(tx(1));
    driver.start();
    await new Promise((r) => setTimeout(r, 400));
    // Nothing could execute: no block, least of all a stream of empty ones.
    expect(chain.head.height).toBe(0);
    await mempool.add(tx(0));
    const deadline = Date.now() + 5000;
    while (db.getTx(gapped.hash)?.status !== "committed" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(db.getTx(gapped.hash)).toMatchObject({ status: "committed", height: 1 });
    await driver.stop();
    await db.close();
  });
});
