import {
  blockHash,
  compactProposal,
  evidenceRoot,
  type SignedTransaction,
  transactionsRoot,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
import { describe, expect, it } from "vitest";
import { bodyMismatch } from "../chain/chain.ts";
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
import { compactReceiver, MAX_REBUILDING, rebuildFromPool, resolveCompact } from "./compact.ts";

const alice = keyOf(1);
const proposer = keyOf(3);

function pool(): Mempool {
  return new Mempool(
    {},
    {
      chainId: CHAIN,
      verifier: createNativeVerifier(),
      accounts: new MemoryAccounts().set(addressOf(1), { balance: 1000n, nonce: 0 }),
      isKnown: () => false,
      now: () => NOW,
      nextValidators: () => [{ publicKey: proposer.publicKey, power: 1n }],
    },
  );
}

const txs = [0, 1, 2].map((n) => signed(alice, n, transfer(addressOf(2), 1n)));

function proposalOf(list: readonly SignedTransaction[]) {
  const header = {
    chainId: CHAIN,
    height: 5,
    time: NOW,
    parentHash: new Uint8Array(32),
    txRoot: transactionsRoot(list),
    txCount: list.length,
    evidenceRoot: evidenceRoot([]),
    stateRoot: new Uint8Array(32),
    validatorsHash: new Uint8Array(32),
    nextValidatorsHash: new Uint8Array(32),
    proposer: proposer.publicKey,
  };
  const proposal = {
    height: 5,
    round: 0,
    polRound: null,
    blockHash: blockHash(header),
    proposer: proposer.publicKey,
  };
  return {
    kind: "proposal" as const,
    proposal: { proposal, signature: new Uint8Array(64) },
    block: { header, txs: list, evidence: [] },
    polVotes: [],
  };
}

describe("compact proposals, rebuilt from the mempool", () => {
  it("rebuild exactly the proposer's block from the transactions the pool holds", async () => {
    const mempool = pool();
    for (const t of txs) await mempool.add(t.bytes, "gossip");
    const whole = proposalOf(txs.map((t) => t.stx));
    const rebuilt = rebuildFromPool(compactProposal(whole), mempool);
    expect(rebuilt?.message.block).toEqual(whole.block);
    expect(rebuilt?.txBytes).toBe(txs.reduce((n, t) => n + t.bytes.length, 0));
    expect(bodyMismatch(rebuilt!.message.block)).toBeNull();
    // The pool knows each leaf it admitted, so the proposer compacts without hashing again.
    for (const stx of rebuilt!.message.block.txs) expect(mempool.leafOf(stx)).toBeDefined();
    expect(compactProposal(rebuilt!.message, (stx) => mempool.leafOf(stx))).toEqual(
      compactProposal(whole),
    );
  });

  it("do not take a transaction signed otherwise for the one the proposal names", async () => {
    const mempool = pool();
    for (const t of txs) await mempool.add(t.bytes, "gossip");
    // The same transaction with another valid signature (Ed25519 nonces are the signer's choice).
    const first = txs[0]!.stx;
    const resigned: SignedTransaction = { tx: first.tx, signature: alice.sign(new Uint8Array(32)) };
    const whole = proposalOf([resigned, ...txs.slice(1).map((t) => t.stx)]);
    expect(rebuildFromPool(compactProposal(whole), mempool)).toBeNull();
    expect(await resolveCompact(compactProposal(whole), mempool, 0)).toBeNull();
  });

  it("wait for an admission under way, then for a transaction still arriving", async () => {
    const mempool = pool();
    const compact = compactProposal(proposalOf(txs.map((t) => t.stx)));
    await mempool.add(txs[0]!.bytes, "gossip");
    // Being admitted (its signature is checked asynchronously) when the proposal arrives.
    const underWay = mempool.addMany([txs[1]!.bytes], "gossip");
    const resolving = resolveCompact(compact, mempool, 5_000);
    await underWay;
    // Arrives later by gossip, inside the wait.
    setTimeout(() => void mempool.add(txs[2]!.bytes, "gossip"), 10);
    const rebuilt = await resolving;
    expect(rebuilt?.message.block.txs).toHaveLength(3);
  });

  it("give up after the wait when a transaction never comes (it is fetched whole)", async () => {
    const mempool = pool();
    await mempool.add(txs[0]!.bytes, "gossip");
    const compact = compactProposal(proposalOf(txs.map((t) => t.stx)));
    expect(await resolveCompact(compact, mempool, 20)).toBeNull();
  });

  it("refuse a list of leaves that is not its header's, whatever the pool holds", async () => {
    const mempool = pool();
    for (const t of txs) await mempool.add(t.bytes, "gossip");
    const compact = compactProposal(proposalOf(txs.map((t) => t.stx)));
    const short = { ...compact, txLeaves: compact.txLeaves.slice(0, 2) };
    expect(await resolveCompact(short, mempool, 0)).toBeNull();
  });

  it("hand the driver whole proposals, ask for the proposal whole when rebuilding fails, and bound the rebuilds", async () => {
    const mempool = pool();
    await mempool.add(txs[0]!.bytes, "gossip");
    const received: { kind: string; size: number }[] = [];
    let fetched = 0;
    let errors = 0;
    const receive = compactReceiver({
      pool: mempool,
      receive: (m, size) => received.push({ kind: m.kind, size }),
      fetchWhole: () => fetched++,
      onError: () => errors++,
      waitMs: 20,
    });
    const whole = proposalOf([txs[0]!.stx]);
    receive(compactProposal(whole), 100);
    const lacking = compactProposal(proposalOf(txs.map((t) => t.stx)));
    // An equivocator's flood of proposals it cannot rebuild: only MAX_REBUILDING wait at once.
    for (let i = 0; i < 3 * MAX_REBUILDING; i++) receive(lacking, 100);
    receive(whole, 5);
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toEqual([
      { kind: "proposal", size: 5 },
      { kind: "proposal", size: 100 + txs[0]!.bytes.length },
    ]);
    expect(fetched).toBe(MAX_REBUILDING - 1);
    expect(errors).toBe(0);
  });
});
