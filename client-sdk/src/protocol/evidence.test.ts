import { describe, expect, it } from "vitest";
import { DecodeError, EncodeError, EvidenceError } from "../errors/protocol.ts";
import { concatBytes } from "./bytes.ts";
import {
  decodeEvidence,
  duplicateVoteEvidence,
  encodeEvidence,
  evidenceKey,
  verifyEvidence,
} from "./evidence.ts";
import { sha256 } from "./hash.ts";
import { createNativeVerifier } from "./node.ts";
import { createVerifier } from "./signatures/backend.ts";
import { nobleBackend } from "./signatures/noble.ts";
import { CHAIN_ID, makeValidators } from "./testing/chain.ts";
import { encodeSignedVote, type SignedVote, type Vote, voteDigest } from "./vote.ts";

const vals = makeValidators(4, 7);
const signBy = (i: number, vote: Omit<Vote, "validator">, chainId = CHAIN_ID): SignedVote => {
  const full = { ...vote, validator: vals.set[i]!.publicKey };
  return { vote: full, signature: vals.keys[i]!.sign(voteDigest(chainId, full)) };
};
const base = { type: "prevote", height: 9, round: 2 } as const;
const blockA = sha256(Uint8Array.of(1));
const blockB = sha256(Uint8Array.of(2));

const code = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === "function" ? p() : p);
    return "ok";
  } catch (err) {
    return err instanceof EvidenceError ? err.code : (err as { code?: string }).code;
  }
};

describe.each([createNativeVerifier(), createVerifier(nobleBackend)])(
  "equivocation evidence ($backend)",
  (verifier) => {
    it("accepts two signed votes of one slot with different values, in either order", async () => {
      const a = signBy(1, { ...base, blockHash: blockA });
      const nil = signBy(1, { ...base, blockHash: null });
      const e1 = duplicateVoteEvidence(a, nil);
      const e2 = duplicateVoteEvidence(nil, a);
      expect(encodeEvidence(e1)).toEqual(encodeEvidence(e2));
      expect(await code(verifyEvidence(CHAIN_ID, e1, vals.set, verifier))).toBe("ok");
      expect(decodeEvidence(encodeEvidence(e1))).toEqual(e1);
      // The slot, not the pair, is the key: another conflicting pair maps to the same record.
      const b = signBy(1, { ...base, blockHash: blockB });
      expect(evidenceKey(duplicateVoteEvidence(a, b))).toEqual(evidenceKey(e1));
    });

    it("refuses pairs that prove nothing", async () => {
      const a = signBy(1, { ...base, blockHash: blockA });
      expect(
        await code(() => duplicateVoteEvidence(a, signBy(1, { ...base, blockHash: blockA }))),
      ).toBe("EVIDENCE_MALFORMED");
      expect(
        await code(() => duplicateVoteEvidence(a, signBy(2, { ...base, blockHash: blockB }))),
      ).toBe("EVIDENCE_MALFORMED");
      expect(
        await code(() =>
          duplicateVoteEvidence(a, signBy(1, { ...base, round: 3, blockHash: blockB })),
        ),
      ).toBe("EVIDENCE_MALFORMED");
      expect(
        await code(() =>
          duplicateVoteEvidence(a, signBy(1, { ...base, type: "precommit", blockHash: blockB })),
        ),
      ).toBe("EVIDENCE_MALFORMED");
    });

    it("refuses a forged signature, another chain's votes and a non-member", async () => {
      const a = signBy(1, { ...base, blockHash: blockA });
      const b = signBy(1, { ...base, blockHash: blockB });
      const forged = duplicateVoteEvidence(a, { ...b, signature: a.signature });
      expect(await code(verifyEvidence(CHAIN_ID, forged, vals.set, verifier))).toBe(
        "EVIDENCE_BAD_SIGNATURE",
      );
      const elsewhere = duplicateVoteEvidence(
        signBy(1, { ...base, blockHash: blockA }, "other-chain"),
        signBy(1, { ...base, blockHash: blockB }, "other-chain"),
      );
      expect(await code(verifyEvidence(CHAIN_ID, elsewhere, vals.set, verifier))).toBe(
        "EVIDENCE_BAD_SIGNATURE",
      );
      const others = makeValidators(4, 8).set;
      expect(
        await code(verifyEvidence(CHAIN_ID, duplicateVoteEvidence(a, b), others, verifier)),
      ).toBe("EVIDENCE_UNKNOWN_VALIDATOR");
    });

    it("has one encoding: the pair in the other order neither encodes nor decodes", () => {
      const e = duplicateVoteEvidence(
        signBy(1, { ...base, blockHash: blockA }),
        signBy(1, { ...base, blockHash: null }),
      );
      const swapped = { first: e.second, second: e.first };
      expect(() => encodeEvidence(swapped)).toThrow(EncodeError);
      const bytes = encodeEvidence(e);
      const hostile = concatBytes(
        bytes.subarray(0, 1), // the version byte
        encodeSignedVote(e.second),
        encodeSignedVote(e.first),
      );
      expect(hostile.length).toBe(bytes.length);
      expect(() => decodeEvidence(hostile)).toThrow(DecodeError);
    });
  },
);
