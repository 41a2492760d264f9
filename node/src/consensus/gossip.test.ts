import {
  type Block,
  blockHash,
  compactProposal,
  encodeConsensusMessage,
  evidenceRoot,
  type Proposal,
  proposalDigest,
  proposerIndex,
  type SecretKey,
  transactionsRoot,
  type Vote,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
import { describe, expect, it } from "vitest";
import { cachingVerifier } from "../chain/blockSignatures.ts";
import { VerifiedSignatures } from "../chain/verifiedSignatures.ts";
import { addressOf, CHAIN, keyOf, NOW, signed, transfer } from "../testing/fixtures.ts";
import { validateConsensusMessage } from "./gossip.ts";

const keys = [0, 1, 2, 3].map((i) => keyOf(30 + i));
const validators = keys
  .map((k) => ({ publicKey: k.publicKey, power: 1n }))
  .sort((a, b) => Buffer.compare(a.publicKey, b.publicKey));
const keyFor = (publicKey: Uint8Array): SecretKey =>
  keys.find((k) => Buffer.compare(k.publicKey, publicKey) === 0)!;
const HEAD = 4;
let behind = 0;
const deps = {
  chainId: CHAIN,
  verifier: cachingVerifier(createNativeVerifier(), new VerifiedSignatures()),
  headHeight: () => HEAD,
  validatorsAt: () => validators,
  behind: () => {
    behind++;
  },
};

function block(height: number, proposer: Uint8Array): Block {
  const txs = [0, 1, 2].map((n) => signed(keyOf(1), n, transfer(addressOf(2), 1n)).stx);
  return {
    header: {
      chainId: CHAIN,
      height,
      time: NOW,
      parentHash: new Uint8Array(32),
      txRoot: transactionsRoot(txs),
      txCount: txs.length,
      evidenceRoot: evidenceRoot([]),
      stateRoot: new Uint8Array(32),
      validatorsHash: new Uint8Array(32),
      nextValidatorsHash: new Uint8Array(32),
      proposer,
    },
    txs,
    evidence: [],
  };
}

function proposalMessage(
  opts: {
    height?: number;
    round?: number;
    polRound?: number | null;
    b?: Block;
    signer?: SecretKey;
  } = {},
) {
  const height = opts.height ?? HEAD + 1;
  const round = opts.round ?? 0;
  const proposer = validators[proposerIndex(validators, height, round)]!.publicKey;
  const b = opts.b ?? block(height, proposer);
  const proposal: Proposal = {
    height,
    round,
    polRound: opts.polRound ?? null,
    blockHash: blockHash(b.header),
    proposer,
  };
  const signer = opts.signer ?? keyFor(proposer);
  return {
    kind: "proposal" as const,
    proposal: { proposal, signature: signer.sign(proposalDigest(CHAIN, proposal)) },
    block: b,
    polVotes: [] as { vote: Vote; signature: Uint8Array }[],
  };
}

const verdictOf = (m: Parameters<typeof encodeConsensusMessage>[0]) =>
  validateConsensusMessage(encodeConsensusMessage(m), deps);

describe("consensus gossip validation", () => {
  it("accepts a real proposal and a real vote", () => {
    expect(verdictOf(proposalMessage()).verdict).toBe("accept");
    const vote: Vote = {
      type: "prevote",
      height: HEAD + 1,
      round: 0,
      blockHash: null,
      validator: keys[0]!.publicKey,
    };
    const signature = keys[0]!.sign(voteDigest(CHAIN, vote));
    expect(verdictOf({ kind: "vote", vote: { vote, signature } }).verdict).toBe("accept");
  });

  it("rejects the real signed proposal relayed with a swapped body (before it is relayed on)", () => {
    const real = proposalMessage();
    const swapped = {
      ...real,
      block: { ...real.block, txs: real.block.txs.slice(0, 2) },
    };
    expect(verdictOf(swapped)).toMatchObject({
      verdict: "reject",
      reason: "txRoot/txCount mismatch",
    });
    const other = signed(keyOf(5), 0, transfer(addressOf(2), 9n)).stx;
    const replaced = {
      ...real,
      block: { ...real.block, txs: [...real.block.txs.slice(0, 2), other] },
    };
    expect(verdictOf(replaced).verdict).toBe("reject");
  });

  it("rejects a fresh proposal whose header names another proposer", () => {
    const height = HEAD + 1;
    const rightful = validators[proposerIndex(validators, height, 0)]!.publicKey;
    const someoneElse = validators.find((v) => Buffer.compare(v.publicKey, rightful) !== 0)!;
    const m = proposalMessage({ b: block(height, someoneElse.publicKey) });
    expect(verdictOf(m)).toMatchObject({
      verdict: "reject",
      reason: "header names another proposer",
    });
  });

  it("rejects a proposal by a validator out of turn, and a forged signature", () => {
    const height = HEAD + 1;
    const rightful = validators[proposerIndex(validators, height, 0)]!.publicKey;
    const other = keys.find((k) => Buffer.compare(k.publicKey, rightful) !== 0)!;
    const forged = proposalMessage({ signer: other });
    expect(verdictOf(forged)).toMatchObject({ verdict: "reject", reason: "proposal signature" });
  });

  it("rejects a polka that repeats one voter to look like a quorum", () => {
    const m = proposalMessage({ round: 2, polRound: 1 });
    const vote: Vote = {
      type: "prevote",
      height: HEAD + 1,
      round: 1,
      blockHash: m.proposal.proposal.blockHash,
      validator: keys[0]!.publicKey,
    };
    const sv = { vote, signature: keys[0]!.sign(voteDigest(CHAIN, vote)) };
    expect(verdictOf({ ...m, polVotes: [sv] }).verdict).toBe("accept");
    expect(verdictOf({ ...m, polVotes: [sv, sv, sv] })).toMatchObject({
      verdict: "reject",
      reason: "repeated polka vote",
    });
  });

  it("ignores (never rejects) heights it cannot use, and notices it is behind", () => {
    const before = behind;
    expect(verdictOf(proposalMessage({ height: HEAD })).verdict).toBe("ignore");
    expect(verdictOf(proposalMessage({ height: HEAD + 3 })).verdict).toBe("ignore");
    expect(behind).toBeGreaterThan(before);
  });

  it("rejects bytes that do not decode", () => {
    expect(validateConsensusMessage(Uint8Array.of(9, 9, 9), deps).verdict).toBe("reject");
  });

  it("accepts a compact proposal whose leaves build its header's txRoot, and rejects a tampered list", () => {
    const real = compactProposal(proposalMessage());
    expect(verdictOf(real).verdict).toBe("accept");
    // A relay that drops, reorders or replaces a leaf cannot keep the signed root.
    const dropped = { ...real, txLeaves: real.txLeaves.slice(1) };
    expect(verdictOf(dropped)).toMatchObject({
      verdict: "reject",
      reason: "txRoot/txCount mismatch",
    });
    const reordered = { ...real, txLeaves: [...real.txLeaves].reverse() };
    expect(verdictOf(reordered)).toMatchObject({
      verdict: "reject",
      reason: "txRoot/txCount mismatch",
    });
    const other = new Uint8Array(32).fill(7);
    const replaced = { ...real, txLeaves: [other, ...real.txLeaves.slice(1)] };
    expect(verdictOf(replaced)).toMatchObject({ verdict: "reject" });
  });

  it("holds a compact proposal to every rule a whole one meets", () => {
    const height = HEAD + 1;
    const rightful = validators[proposerIndex(validators, height, 0)]!.publicKey;
    const other = keys.find((k) => Buffer.compare(k.publicKey, rightful) !== 0)!;
    expect(verdictOf(compactProposal(proposalMessage({ signer: other })))).toMatchObject({
      verdict: "reject",
      reason: "proposal signature",
    });
    const someoneElse = validators.find((v) => Buffer.compare(v.publicKey, rightful) !== 0)!;
    const wrongHeader = compactProposal(
      proposalMessage({ b: block(height, someoneElse.publicKey) }),
    );
    expect(verdictOf(wrongHeader)).toMatchObject({
      verdict: "reject",
      reason: "header names another proposer",
    });
    expect(verdictOf(compactProposal(proposalMessage({ height: HEAD + 3 }))).verdict).toBe(
      "ignore",
    );
  });
});
