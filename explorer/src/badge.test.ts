import { SecretKey, type ValidatorSet, VerificationError } from "@edgeledger/sdk";
import { describe, expect, it } from "vitest";
import { badgeText, certificateCheck, failureOf, warningText } from "./badge.ts";

const set: ValidatorSet = [100n, 100n, 100n, 200n].map((power) => ({
  publicKey: SecretKey.generate().publicKey,
  power,
}));
const sig = (validatorIndex: number) => ({ validatorIndex, signature: new Uint8Array(64) });

describe("badges", () => {
  it("count a certificate's signers and their power against the set that signed", () => {
    const cert = {
      height: 9,
      round: 1,
      blockHash: new Uint8Array(32),
      signatures: [sig(0), sig(1), sig(3)],
    };
    const check = certificateCheck(cert, set);
    expect(check).toEqual({
      height: 9,
      round: 1,
      signers: 3,
      validators: 4,
      signerPower: 400n,
      totalPower: 500n,
    });
    expect(
      badgeText({
        headerHeight: 9,
        certificate: check,
        proof: { kind: "state", depth: 17, present: true },
      }),
    ).toBe(
      "✔ Verified: state proof of presence, depth 17, against header 9; header 9 signed by 3 of 4 validators (power 400 of 500, 80.0%), round 1",
    );
  });

  it("name each kind of proof", () => {
    const c = { height: 5, round: 0, signers: 3, validators: 4, signerPower: 3n, totalPower: 4n };
    const text = (proof: Parameters<typeof badgeText>[0]["proof"]) =>
      badgeText({ headerHeight: 5, certificate: c, proof });
    expect(text({ kind: "contents", txs: 1 })).toMatch(
      /^✔ Verified: 1 transaction and evidence hash to header 5's roots; header 5 signed by 3 of 4/,
    );
    expect(text({ kind: "merkle", depth: 2, index: 0, size: 3 })).toMatch(
      /^✔ Verified: Merkle proof, depth 2 \(leaf 1 of 3\), against header 5;/,
    );
    expect(text({ kind: "set", field: "nextValidatorsHash" })).toMatch(
      /^✔ Verified: set hash is header 5's nextValidatorsHash;/,
    );
    expect(badgeText({ headerHeight: 0, certificate: null, proof: { kind: "anchor" } })).toBe(
      "✔ Verified: genesis hash is the pinned anchor",
    );
  });

  it("warn with the SDK's code, and tell a refused answer from a missing one", () => {
    const refused = failureOf(
      new VerificationError("VERIFY_PROOF", "The account does not match the state proof."),
    );
    expect(refused).toEqual({
      code: "VERIFY_PROOF",
      message: "The account does not match the state proof.",
      refused: true,
    });
    expect(warningText(refused)).toMatch(
      /^⚠ NOT VERIFIED — VERIFY_PROOF: The account does not match the state proof\. .*not shown\.$/,
    );
    const missing = failureOf(Object.assign(new Error("gone"), { code: "NOT_FOUND" }));
    expect(missing.refused).toBe(false);
    expect(warningText(missing)).toBe("⚠ Not shown — NOT_FOUND: gone");
  });
});
