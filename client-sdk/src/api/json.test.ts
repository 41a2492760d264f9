import { describe, expect, it } from "vitest";
import { toHex } from "../protocol/bytes.ts";
import { certify, makeHeader, makeValidators } from "../protocol/testing/chain.ts";
import { accountJson, blockJson, certifiedHeaderJson } from "./json.ts";

describe("the answer renderers", () => {
  const validators = makeValidators(4, 7);
  const header = makeHeader(null, validators.set);
  const certificate = certify(header, validators, [0, 1, 2]);

  it("an account: amounts as decimal strings, only balance and nonce, the proof as hex", () => {
    const account = { balance: 2n ** 100n, nonce: 3, extra: "not rendered" };
    const json = accountJson({
      address: "el1example",
      height: 1,
      account,
      proof: Uint8Array.of(1, 2),
      header,
      certificate,
    });
    expect(json).toEqual({
      address: "el1example",
      height: 1,
      account: { balance: (2n ** 100n).toString(), nonce: 3 },
      proof: "0102",
      block: certifiedHeaderJson(header, certificate),
    });
    expect(
      accountJson({ ...json, account: null, proof: Uint8Array.of(), header, certificate }),
    ).toMatchObject({ account: null, proof: "" });
  });

  it("a block: its certified header, transactions, evidence and bytes", () => {
    const bytes = Uint8Array.of(0xaa, 0xbb);
    expect(blockJson({ header, txs: [], evidence: [] }, certificate, bytes)).toEqual({
      block: certifiedHeaderJson(header, certificate),
      txs: [],
      evidence: [],
      blockBytes: toHex(bytes),
    });
  });
});
