import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Block,
  EMPTY_ROOT,
  encodeBlock,
  merkleRoot,
  type Vote,
} from "@edgeledger/sdk/protocol";
import { nativeSigner } from "@edgeledger/sdk/protocol/node";
import { afterEach, describe, expect, it } from "vitest";
import { Database } from "../db/database.ts";
import { CHAIN, keyOf } from "../testing/fixtures.ts";
import { LocalSigningGuard } from "./signingGuard.ts";

const key = keyOf(1);
const hash = (b: number) => new Uint8Array(32).fill(b);
const vote = (
  type: Vote["type"],
  height: number,
  round: number,
  blockHash: Uint8Array | null,
): Vote => ({
  type,
  height,
  round,
  blockHash,
  validator: key.publicKey,
});
const block = (height: number): Block => ({
  header: {
    chainId: CHAIN,
    height,
    time: height,
    parentHash: EMPTY_ROOT,
    txRoot: merkleRoot([]),
    txCount: 0,
    evidenceRoot: merkleRoot([]),
    stateRoot: EMPTY_ROOT,
    validatorsHash: EMPTY_ROOT,
    nextValidatorsHash: EMPTY_ROOT,
    proposer: key.publicKey,
  },
  txs: [],
  evidence: [],
});

const dirs: string[] = [];
async function openGuard(dir?: string) {
  const d = dir ?? mkdtempSync(join(tmpdir(), "guard-"));
  if (!dir) dirs.push(d);
  const db = new Database(d);
  await db.open();
  return { db, dir: d, guard: new LocalSigningGuard(db, nativeSigner(key), CHAIN) };
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("signing guard", () => {
  it("signs each vote once, repeats the same vote, and refuses a conflicting one", async () => {
    const { guard, db } = await openGuard();
    expect(await guard.signVote(vote("prevote", 5, 0, hash(1)))).not.toBeNull();
    expect(await guard.signVote(vote("prevote", 5, 0, hash(1)))).not.toBeNull();
    expect(await guard.signVote(vote("prevote", 5, 0, hash(2)))).toBeNull();
    expect(await guard.signVote(vote("prevote", 5, 0, null))).toBeNull();
    expect(await guard.signVote(vote("precommit", 5, 0, hash(1)))).not.toBeNull();
    // Later rounds may differ (Tendermint unlocking, by a polka since the lock); earlier
    // rounds and heights may not come back.
    expect(await guard.signVote(vote("prevote", 5, 1, hash(2)), null, 0)).not.toBeNull();
    expect(await guard.signVote(vote("prevote", 5, 0, hash(1)))).toBeNull();
    expect(await guard.signVote(vote("prevote", 6, 0, hash(3)))).not.toBeNull();
    expect(await guard.signVote(vote("precommit", 5, 2, hash(3)))).toBeNull();
    await db.close();
  });

  it("holds a lock: a prevote against it needs a polka since the lock (a standby that did not know it was locked)", async () => {
    const { guard, db } = await openGuard();
    expect(await guard.signVote(vote("precommit", 5, 1, hash(1)))).not.toBeNull();
    // Another block in a later round, from a fresh proposal or an older polka: refused.
    expect(await guard.signVote(vote("prevote", 5, 2, hash(2)))).toBeNull();
    expect(await guard.signVote(vote("prevote", 5, 2, hash(2)), null, 0)).toBeNull();
    // A claimed polka must come before the prevote's own round.
    expect(await guard.signVote(vote("prevote", 5, 2, hash(2)), null, 2)).toBeNull();
    // nil, or the locked block, is always fine; a later lock moves what is held.
    expect(await guard.signVote(vote("prevote", 5, 2, null))).not.toBeNull();
    expect(await guard.signVote(vote("prevote", 5, 3, hash(1)))).not.toBeNull();
    expect(await guard.signVote(vote("precommit", 5, 4, hash(3)))).not.toBeNull();
    expect(await guard.signVote(vote("prevote", 5, 5, hash(1)), null, 1)).toBeNull();
    // Unlocking as the protocol allows (L28-L29: a polka at or after the lock's round).
    expect(await guard.signVote(vote("prevote", 5, 5, hash(1)), null, 4)).not.toBeNull();
    // Locks are per height.
    expect(await guard.signVote(vote("prevote", 6, 1, hash(9)))).not.toBeNull();
    await db.close();
  });

  it("remembers across a restart what it signed, and the block it proposed", async () => {
    const first = await openGuard();
    const b = block(7);
    const proposal = {
      height: 7,
      round: 0,
      polRound: null,
      blockHash: hash(4),
      proposer: key.publicKey,
    };
    expect(await first.guard.signProposal(proposal, encodeBlock(b))).not.toBeNull();
    expect(await first.guard.signVote(vote("precommit", 7, 0, hash(4)))).not.toBeNull();
    await first.db.close();

    const again = await openGuard(first.dir);
    expect(again.guard.proposedBlock(7)).toEqual(b);
    expect(again.guard.proposedBlock(8)).toBeNull();
    expect(
      await again.guard.signProposal({ ...proposal, blockHash: hash(5) }, encodeBlock(block(7))),
    ).toBeNull();
    expect(await again.guard.signVote(vote("precommit", 7, 0, hash(5)))).toBeNull();
    expect(await again.guard.signVote(vote("precommit", 7, 0, hash(4)))).not.toBeNull();
    await again.db.close();
  });

  it("tells a restarted engine its round and its lock (the last precommit for a block)", async () => {
    const first = await openGuard();
    expect(first.guard.resume(9)).toBeNull();
    await first.guard.signVote(vote("prevote", 9, 0, hash(1)));
    await first.guard.signVote(vote("precommit", 9, 0, hash(1)));
    await first.guard.signVote(vote("prevote", 9, 2, null));
    await first.guard.signVote(vote("precommit", 9, 2, null));
    await first.db.close();
    const again = await openGuard(first.dir);
    expect(again.guard.resume(9)).toMatchObject({
      round: 2,
      lockedRound: 0,
      lockedValue: hash(1),
      validRound: -1,
      validValue: null,
    });
    expect(again.guard.resume(10)).toBeNull();
    await again.db.close();
  });

  it("compares whole sign bytes: one block proposed twice in a round with different polRounds is refused", async () => {
    const { guard, db } = await openGuard();
    const proposal = {
      height: 4,
      round: 3,
      polRound: null,
      blockHash: hash(6),
      proposer: key.publicKey,
    };
    expect(await guard.signProposal(proposal, encodeBlock(block(4)))).not.toBeNull();
    expect(await guard.signProposal(proposal, encodeBlock(block(4)))).not.toBeNull(); // the same message
    expect(
      await guard.signProposal({ ...proposal, polRound: 1 }, encodeBlock(block(4))),
    ).toBeNull();
    await db.close();
  });

  it("keeps the valid value with its block and polka across a restart, newest round only", async () => {
    const first = await openGuard();
    const b = block(11);
    const polVote = {
      vote: vote("prevote", 11, 1, hash(8)),
      signature: new Uint8Array(64).fill(2),
    };
    const valid = { round: 1, blockHash: hash(8), blockBytes: encodeBlock(b), polVotes: [polVote] };
    // Kept with the precommit that locked on it, in the same write.
    expect(await first.guard.signVote(vote("precommit", 11, 1, hash(8)), valid)).not.toBeNull();
    // An older valid round never replaces a newer one.
    await first.guard.rememberValid(11, { ...valid, round: 0, blockHash: hash(9) });
    await first.db.close();
    const again = await openGuard(first.dir);
    expect(again.guard.resume(11)).toMatchObject({
      round: 1,
      lockedRound: 1,
      validRound: 1,
      validValue: hash(8),
      validBlock: b,
      polVotes: [polVote],
    });
    await again.db.close();
  });
});
