/**
 * Canonical encoding of every protocol object: encode → decode round trips,
 * and any mutation of an encoding is rejected with a typed DecodeError or
 * decodes to a different object (whose own encoding is exactly the mutated
 * bytes, and whose hash differs).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DecodeError } from "../errors/protocol.ts";
import { blockCodec, blockHeaderCodec, encodeBlock, encodeBlockFromParts } from "./block.ts";
import { type Codec, decode, encode } from "./codec/codec.ts";
import { consensusMessageCodec } from "./consensusMessage.ts";
import { evidenceCodec } from "./evidence.ts";
import { finalityCertificateCodec } from "./finalityCertificate.ts";
import { sha256 } from "./hash.ts";
import { merkleProofCodec } from "./merkle.ts";
import { accountCodec } from "./state/account.ts";
import { stateProofCodec } from "./state/sparseMerkleTree.ts";
import * as arb from "./testing/arbitraries.ts";
import {
  encodeSignedTransaction,
  signedTransactionCodec,
  transactionCodec,
  transactionHash,
} from "./transaction.ts";
import { txBatchCodec } from "./txBatch.ts";
import { validatorSetCodec } from "./validatorSet.ts";
import { signedProposalCodec, signedVoteCodec, voteCodec } from "./vote.ts";

const cases: [string, Codec<unknown>, fc.Arbitrary<unknown>][] = [
  ["Transaction", transactionCodec as Codec<unknown>, arb.transaction],
  ["SignedTransaction", signedTransactionCodec as Codec<unknown>, arb.signedTransaction],
  ["BlockHeader", blockHeaderCodec as Codec<unknown>, arb.blockHeader],
  ["Block", blockCodec as Codec<unknown>, arb.block],
  ["Vote", voteCodec as Codec<unknown>, arb.vote],
  ["SignedVote", signedVoteCodec as Codec<unknown>, arb.signedVote],
  ["DuplicateVoteEvidence", evidenceCodec as Codec<unknown>, arb.evidence],
  [
    "TxBatch",
    txBatchCodec as Codec<unknown>,
    fc.array(arb.signedTransaction.map(encodeSignedTransaction), { maxLength: 5 }),
  ],
  ["ValidatorSet", validatorSetCodec as Codec<unknown>, arb.validatorSet],
  ["FinalityCertificate", finalityCertificateCodec as Codec<unknown>, arb.finalityCertificate],
  ["MerkleProof", merkleProofCodec as Codec<unknown>, arb.merkleProof],
  ["StateProof", stateProofCodec as Codec<unknown>, arb.stateProof],
  ["Account", accountCodec as Codec<unknown>, arb.account],
  ["SignedProposal", signedProposalCodec as Codec<unknown>, arb.signedProposal],
  ["ConsensusMessage", consensusMessageCodec as Codec<unknown>, arb.consensusMessage],
];

describe.each(cases)("%s encoding", (_name, codec, arbitrary) => {
  it("round-trips through encode and decode", () => {
    fc.assert(
      fc.property(arbitrary, (value) => {
        const bytes = encode(codec, value);
        expect(decode(codec, bytes)).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it("rejects every mutation, or decodes it to a different value with a different hash", () => {
    fc.assert(
      fc.property(arbitrary, arb.mutation, (value, m) => {
        const original = encode(codec, value);
        const mutated = arb.mutate(original, m);
        fc.pre(mutated.length !== original.length || mutated.some((b, i) => b !== original[i]));
        let decoded: unknown;
        try {
          decoded = decode(codec, mutated);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
          return;
        }
        // Accepted: then it is canonical (re-encodes to the same bytes) and is another object.
        expect(encode(codec, decoded)).toEqual(mutated);
        expect(sha256(mutated)).not.toEqual(sha256(original));
        expect(decoded).not.toEqual(value);
      }),
      { numRuns: 500 },
    );
  });
});

describe("decoder bounds and canonical form", () => {
  const tx = fc.sample(arb.signedTransaction, { numRuns: 1, seed: 7 })[0]!;
  const bytes = encode(signedTransactionCodec, tx);

  it("names truncation, trailing bytes and oversize input with their own codes", () => {
    const code = (input: Uint8Array, maxBytes?: number) => {
      try {
        decode(signedTransactionCodec, input, maxBytes === undefined ? {} : { maxBytes });
        return "accepted";
      } catch (err) {
        return (err as DecodeError).code;
      }
    };
    expect(code(bytes.slice(0, -1))).toBe("DECODE_TRUNCATED");
    expect(code(Uint8Array.from([...bytes, 0]))).toBe("DECODE_TRAILING_BYTES");
    expect(code(bytes, bytes.length - 1)).toBe("DECODE_TOO_LARGE");
    expect(code(Uint8Array.from([9, ...bytes.slice(1)]))).toBe("DECODE_UNKNOWN_VERSION");
  });

  it("rejects u64 values a JS number cannot hold exactly", () => {
    const vote = encode(voteCodec, {
      type: "prevote",
      height: 1,
      round: 0,
      blockHash: null,
      validator: new Uint8Array(32),
    });
    const tooHigh = vote.slice();
    tooHigh.set([0x00, 0x20, 0, 0, 0, 0, 0, 0], 2); // height = 2^53
    expect(() => decode(voteCodec, tooHigh)).toThrow(
      expect.objectContaining({ code: "DECODE_OUT_OF_RANGE" }),
    );
  });

  it("rejects presence flags other than 0 and 1, and unknown kinds", () => {
    const vote = encode(voteCodec, {
      type: "prevote",
      height: 1,
      round: 0,
      blockHash: null,
      validator: new Uint8Array(32),
    });
    const badFlag = vote.slice();
    badFlag[14] = 2;
    expect(() => decode(voteCodec, badFlag)).toThrow(
      expect.objectContaining({ code: "DECODE_NON_CANONICAL" }),
    );
    const badType = vote.slice();
    badType[1] = 7;
    expect(() => decode(voteCodec, badType)).toThrow(
      expect.objectContaining({ code: "DECODE_UNKNOWN_KIND" }),
    );
  });

  it("refuses to encode values out of range instead of wrapping them", () => {
    const good = fc.sample(arb.transaction, { numRuns: 1, seed: 3 })[0]!;
    expect(() => encode(transactionCodec, { ...good, nonce: -1 })).toThrow(
      expect.objectContaining({ code: "ENCODE_INVALID_VALUE" }),
    );
    expect(() =>
      encode(transactionCodec, {
        ...good,
        body: { kind: "transfer", to: new Uint8Array(20), amount: 1n << 128n },
      }),
    ).toThrow(expect.objectContaining({ code: "ENCODE_INVALID_VALUE" }));
    expect(() => encode(transactionCodec, { ...good, chainId: "Main Net" })).toThrow(
      expect.objectContaining({ code: "ENCODE_INVALID_VALUE" }),
    );
  });

  it("rejects unsorted or duplicated validator sets and certificate signers", () => {
    const set = fc.sample(
      arb.validatorSet.filter((s) => s.length >= 2),
      { numRuns: 1, seed: 1 },
    )[0]!;
    expect(() => encode(validatorSetCodec, [...set].reverse())).toThrow(
      expect.objectContaining({ code: "ENCODE_INVALID_VALUE" }),
    );
    // Hand-build a set encoding with a duplicated member: decoder must refuse it.
    const one = encode(validatorSetCodec, [set[0]!]);
    const member = one.slice(5);
    const dup = Uint8Array.from([1, 0, 0, 0, 2, ...member, ...member]);
    expect(() => decode(validatorSetCodec, dup)).toThrow(
      expect.objectContaining({ code: "DECODE_NON_CANONICAL" }),
    );
  });

  it("decodes node Buffers into plain Uint8Array copies that do not alias the input", () => {
    const input = Buffer.from(bytes);
    const decoded = decode(signedTransactionCodec, input);
    expect(decoded.signature.constructor).toBe(Uint8Array);
    expect(decoded).toEqual(tx);
    input.fill(0);
    expect(decoded).toEqual(tx);
  });

  it("does not allocate for a list count the input cannot hold", () => {
    // A Block header followed by a tx count of 2^32-1 and nothing else.
    const header = fc.sample(arb.blockHeader, { numRuns: 1, seed: 5 })[0]!;
    const head = encode(blockHeaderCodec, header);
    const hostile = Uint8Array.from([...head, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decode(blockCodec, hostile)).toThrow(DecodeError);
  });
});

describe("block encoding from parts", () => {
  it("equals encodeBlock for any block", () => {
    fc.assert(
      fc.property(arb.block, (block) => {
        expect(
          encodeBlockFromParts(
            block.header,
            block.txs.map(encodeSignedTransaction),
            block.evidence,
          ),
        ).toEqual(encodeBlock(block));
      }),
      { numRuns: 200 },
    );
  });
});

describe("memoized transaction encoding", () => {
  it("re-encodes a decoded transaction to its bytes, and a changed copy to new ones", () => {
    fc.assert(
      fc.property(arb.signedTransaction, (stx) => {
        const bytes = encodeSignedTransaction(stx);
        const decoded = decode(signedTransactionCodec, bytes);
        expect(encodeSignedTransaction(decoded)).toEqual(bytes);
        expect(transactionHash(decoded.tx)).toEqual(transactionHash(stx.tx));
        // A new object built from it has no remembered bytes: it is encoded for real.
        const nonce = decoded.tx.nonce === 0 ? 1 : decoded.tx.nonce - 1;
        const changed = { ...decoded, tx: { ...decoded.tx, nonce } };
        const fresh = encodeSignedTransaction(changed);
        expect(decode(signedTransactionCodec, fresh).tx.nonce).toBe(changed.tx.nonce);
        expect(transactionHash(changed.tx)).not.toEqual(transactionHash(decoded.tx));
      }),
      { numRuns: 100 },
    );
  });
});
