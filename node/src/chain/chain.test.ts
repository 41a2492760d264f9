import {
  type Block,
  duplicateVoteEvidence,
  EvidenceError,
  evidenceKey,
  evidenceRoot,
  toHex,
  validatorSetHash,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import { nativeSigner } from "@edgeledger/sdk/protocol/node";
import { afterEach, describe, expect, it } from "vitest";
import { Database } from "../db/database.ts";
import type { Mempool, PendingTx } from "../mempool/mempool.ts";
import {
  addressOf,
  CHAIN,
  certifyAlone,
  keyOf,
  loneValidatorGenesis,
  NOW,
  openTestChain,
  removeTestDirs,
  signed,
  transfer,
} from "../testing/fixtures.ts";
import { Chain } from "./chain.ts";

const validator = keyOf(9);
const genesis = loneValidatorGenesis(validator, NOW - 1000);

afterEach(removeTestDirs);

const openChain = (dir?: string) => openTestChain(genesis, dir ? { dir } : {});
const certify = (block: Block, blockHash: Uint8Array) =>
  certifyAlone(validator, block.header.height, blockHash);

async function addAll(mempool: Mempool, bytes: Uint8Array[]): Promise<PendingTx[]> {
  const out: PendingTx[] = [];
  for (const b of bytes) out.push(await mempool.add(b));
  return out;
}

describe("chain", () => {
  it("builds, commits and survives a restart at the same head and state root", async () => {
    const a = await openChain();
    const txs = await addAll(
      a.mempool,
      [0, 1, 2].map((n) => signed(keyOf(1), n, transfer(addressOf(2), 10n)).bytes),
    );
    const built = await a.chain.buildBlock(txs, a.chain.nextTime(NOW), validator.publicKey);
    expect(built.failed).toEqual([]);
    expect(built.block.txs).toHaveLength(3);
    await a.chain.commit(built, certify(built.block, built.blockHash));
    expect(a.chain.head.height).toBe(1);
    expect(await a.chain.accounts.getAccount(addressOf(2))).toEqual({ balance: 30n, nonce: 0 });
    const root = toHex(a.chain.head.header.stateRoot);
    await a.db.close();

    const b = await openChain(a.dir);
    expect(b.chain.head.height).toBe(1);
    expect(toHex(b.chain.head.header.stateRoot)).toBe(root);
    expect(await b.chain.accounts.getAccount(addressOf(1))).toEqual({ balance: 970n, nonce: 3 });
    expect(b.db.getTx(txs[1]!.hash)).toEqual({ status: "committed", height: 1, index: 1 });
    await b.db.close();
  });

  it("never lets a drop record overwrite a committed transaction", async () => {
    const a = await openChain();
    const tx = await a.mempool.add(signed(keyOf(1), 0, transfer(addressOf(2), 10n)).bytes);
    const built = await a.chain.buildBlock([tx], NOW, validator.publicKey);
    await a.chain.commit(built, certify(built.block, built.blockHash));
    // A stale mempool copy of the same transaction is dropped later (e.g. after block sync).
    await a.db.recordDropped(
      [
        {
          hash: tx.hash,
          record: { status: "dropped", code: "TX_NONCE_TOO_LOW", message: "stale", tx: "" },
        },
      ],
      1,
    );
    expect(a.db.getTx(tx.hash)).toEqual({ status: "committed", height: 1, index: 0 });
    await a.db.close();
  });

  it("leaves out transactions that fail and reports why", async () => {
    const a = await openChain();
    const ok = await a.mempool.add(signed(keyOf(1), 0, transfer(addressOf(2), 10n)).bytes);
    const late = await a.mempool.add(
      signed(keyOf(1), 1, transfer(addressOf(2), 10n), { expiresAt: NOW + 5 }).bytes,
    );
    const built = await a.chain.buildBlock([ok, late], NOW + 10, validator.publicKey);
    expect(built.block.txs).toHaveLength(1);
    expect(built.failed.map((f) => f.error.code)).toEqual(["TX_EXPIRED"]);
    await a.db.close();
  });

  it("a second node executes the proposer's block to the same state root, and rejects a tampered one", async () => {
    const a = await openChain();
    const b = await openChain();
    const txs = await addAll(a.mempool, [signed(keyOf(1), 0, transfer(addressOf(3), 7n)).bytes]);
    const built = await a.chain.buildBlock(txs, NOW, validator.publicKey);
    const exec = await b.chain.executeBlock(built.block);
    expect(toHex(exec.blockHash)).toBe(toHex(built.blockHash));
    const tampered = {
      ...built.block,
      header: { ...built.block.header, stateRoot: new Uint8Array(32) },
    };
    await expect(b.chain.executeBlock(tampered)).rejects.toThrow(/state root/);
    const wrongTxs = { ...built.block, txs: [] };
    await expect(b.chain.executeBlock(wrongTxs)).rejects.toThrow(/txRoot/);
    await a.db.close();
    await b.db.close();
  });

  it("refuses a database made for another genesis", async () => {
    const a = await openChain();
    await a.db.close();
    const db = new Database(a.dir);
    await db.open();
    const other = new Chain(db, { ...genesis, chainId: "other-chain" });
    await expect(other.init()).rejects.toThrow(/genesis/);
    await db.close();
  });

  it("schedules a voted validator-set change two heights later, on every node and across restarts", async () => {
    const a = await openChain();
    const b = await openChain();
    const newcomer = keyOf(8);
    const vote = await a.mempool.add(
      signed(validator, 0, { kind: "validator-vote", validator: newcomer.publicKey, power: 1n })
        .bytes,
    );
    const b1 = await a.chain.buildBlock([vote], NOW, validator.publicKey);
    expect(b1.failed).toEqual([]);
    // The lone validator is a quorum: the set with the newcomer signs from height 1 + 2.
    expect(b1.validatorChange?.from).toBe(3);
    expect(b1.validatorChange?.set.map((v) => toHex(v.publicKey)).sort()).toEqual(
      [validator.publicKey, newcomer.publicKey].map(toHex).sort(),
    );
    const genesisHash = toHex(validatorSetHash(genesis.validators));
    expect(toHex(b1.block.header.nextValidatorsHash)).toBe(genesisHash);
    // Another node executing the block reaches the same state and the same change.
    const e1 = await b.chain.executeBlock(b1.block);
    expect(toHex(e1.blockHash)).toBe(toHex(b1.blockHash));
    expect(e1.validatorChange).toEqual(b1.validatorChange);
    await a.chain.commit(b1, certify(b1.block, b1.blockHash));
    expect(a.chain.validatorsAt(2)).toEqual(genesis.validators);
    expect(a.chain.validatorsAt(3)).toEqual(b1.validatorChange?.set);

    // Block 2, still signed by the genesis set, announces the new one as next.
    const b2 = await a.chain.buildBlock([], NOW + 1, validator.publicKey);
    const newHash = toHex(validatorSetHash(b1.validatorChange!.set));
    expect(toHex(b2.block.header.validatorsHash)).toBe(genesisHash);
    expect(toHex(b2.block.header.nextValidatorsHash)).toBe(newHash);
    await a.chain.commit(b2, certify(b2.block, b2.blockHash));
    await a.db.close();

    const again = await openChain(a.dir);
    expect(toHex(validatorSetHash(again.chain.validatorsAt(3)))).toBe(newHash);
    expect(again.chain.validatorsAt(2)).toEqual(genesis.validators);
    await again.db.close();
    await b.db.close();
  });

  it("records an equivocation once, and refuses evidence by a non-member", async () => {
    const a = await openChain();
    const b = await openChain();
    const sign = (key: typeof validator, blockHash: Uint8Array | null) => {
      const vote = {
        type: "prevote" as const,
        height: 1,
        round: 0,
        blockHash,
        validator: key.publicKey,
      };
      return { vote, signature: nativeSigner(key).signSync(voteDigest(CHAIN, vote)) };
    };
    const real = duplicateVoteEvidence(
      sign(validator, new Uint8Array(32).fill(1)),
      sign(validator, null),
    );
    const outsider = duplicateVoteEvidence(
      sign(keyOf(7), new Uint8Array(32).fill(1)),
      sign(keyOf(7), null),
    );
    const b1 = await a.chain.buildBlock([], NOW, validator.publicKey, [outsider, real, real]);
    expect(b1.block.evidence).toEqual([real]);
    expect(b1.refusedEvidence).toEqual([outsider]);
    expect(toHex((await b.chain.executeBlock(b1.block)).blockHash)).toBe(toHex(b1.blockHash));
    await a.chain.commit(b1, certify(b1.block, b1.blockHash));
    expect(await a.chain.accounts.getValue(evidenceKey(real))).not.toBeNull();

    // Offered again: left out; a block that carries it anyway is invalid.
    const b2 = await a.chain.buildBlock([], NOW + 1, validator.publicKey, [real]);
    expect(b2.block.evidence).toEqual([]);
    expect(b2.refusedEvidence).toEqual([real]);
    await b.chain.commit(await b.chain.executeBlock(b1.block), certify(b1.block, b1.blockHash));
    const forged = {
      ...b2.block,
      evidence: [real],
      header: { ...b2.block.header, evidenceRoot: evidenceRoot([real]) },
    };
    await expect(b.chain.executeBlock(forged)).rejects.toThrow(EvidenceError);
    await a.db.close();
    await b.db.close();
  });
});
