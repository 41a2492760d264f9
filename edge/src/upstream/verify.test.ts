/**
 * The edge's real verifier (the SDK's light client) against a fake upstream
 * serving a small signed chain: what it caches and serves is what it checked.
 */
import { createNativeVerifier } from "@edgeledger/sdk/node";
import {
  type BlockHeader,
  blockHash,
  compareBytes,
  EMPTY_ROOT,
  encodeBlock,
  encodeBlockHeader,
  encodeFinalityCertificate,
  encodeValidatorSet,
  evidenceRoot,
  type FinalityCertificate,
  SecretKey,
  sha256,
  toHex,
  transactionsRoot,
  validatorSetHash,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import { createEdgeApp } from "../app.ts";

const CHAIN = "testnet-1";

function chain(length: number) {
  const keys = Array.from({ length: 4 }, (_, i) =>
    SecretKey.fromSeed(sha256(Uint8Array.of(41, i))),
  );
  keys.sort((a, b) => compareBytes(a.publicKey, b.publicKey));
  const set = keys.map((k) => ({ publicKey: k.publicKey, power: 10n }));
  const headers: BlockHeader[] = [];
  for (let h = 0; h < length; h++) {
    const parent = headers[h - 1];
    headers.push({
      chainId: CHAIN,
      height: h,
      time: 1_700_000_000_000 + h * 1000,
      parentHash: parent ? blockHash(parent) : EMPTY_ROOT,
      txRoot: transactionsRoot([]),
      txCount: 0,
      evidenceRoot: evidenceRoot([]),
      stateRoot: EMPTY_ROOT,
      validatorsHash: validatorSetHash(set),
      nextValidatorsHash: validatorSetHash(set),
      proposer: set[0]!.publicKey,
    });
  }
  const certify = (header: BlockHeader, signers: number[]): FinalityCertificate => ({
    height: header.height,
    round: 0,
    blockHash: blockHash(header),
    signatures: signers.map((i) => ({
      validatorIndex: i,
      signature: keys[i]!.sign(
        voteDigest(CHAIN, {
          type: "precommit",
          height: header.height,
          round: 0,
          blockHash: blockHash(header),
          validator: set[i]!.publicKey,
        }),
      ),
    })),
  });
  return { set, headers, certify };
}

/** One upstream serving `c`; `forge` swaps a broken certificate into every certified header. */
function upstream(c: ReturnType<typeof chain>) {
  const state = { forge: false, asked: [] as string[] };
  const certified = (header: BlockHeader) => {
    const good = toHex(encodeFinalityCertificate(c.certify(header, [0, 1, 2])));
    // A certificate that decodes, for the right block, with one signature broken.
    const broken = `${good.slice(0, -8)}00000000`;
    return {
      headerBytes: toHex(encodeBlockHeader(header)),
      certificateBytes: state.forge ? broken : good,
    };
  };
  const body = (path: string, query: URLSearchParams): unknown => {
    if (path === "/v1/genesis")
      return {
        hash: toHex(blockHash(c.headers[0]!)),
        headerBytes: toHex(encodeBlockHeader(c.headers[0]!)),
        validatorSetBytes: toHex(encodeValidatorSet(c.set)),
      };
    if (path === "/v1/status") {
      const tip = c.headers.at(-1)!;
      return { chainId: CHAIN, height: tip.height, latestHash: toHex(blockHash(tip)) };
    }
    if (path === "/v1/validators") {
      const height = Number(query.get("height"));
      return {
        height,
        hash: toHex(validatorSetHash(c.set)),
        validatorSetBytes: toHex(encodeValidatorSet(c.set)),
        validators: [],
      };
    }
    const header = /^\/v1\/headers\/(\d+)$/.exec(path);
    if (header) return certified(c.headers[Number(header[1])]!);
    const block = /^\/v1\/blocks\/(\d+)$/.exec(path);
    if (block) {
      const h = c.headers[Number(block[1])]!;
      return {
        block: certified(h),
        txs: [],
        evidence: [],
        blockBytes: toHex(encodeBlock({ header: h, txs: [], evidence: [] })),
      };
    }
    return undefined;
  };
  const fetch: typeof globalThis.fetch = async (input) => {
    const url = new URL(String(input));
    state.asked.push(url.pathname);
    const answer = body(url.pathname, url.searchParams);
    return answer === undefined
      ? new Response(JSON.stringify({ code: "NOT_FOUND", message: "no", details: {} }), {
          status: 404,
          headers: { "content-type": "application/json" },
        })
      : new Response(JSON.stringify(answer), { headers: { "content-type": "application/json" } });
  };
  return { state, fetch };
}

describe("the edge's verifier", () => {
  it("checks the certificate of every answer, also for a header it already verified, and caches none that fails", async () => {
    const c = chain(8);
    const up = upstream(c);
    const app = createEdgeApp({
      upstreams: ["http://up0"],
      chainId: CHAIN,
      trust: { genesisHash: toHex(blockHash(c.headers[0]!)) },
      fetch: up.fetch,
      verifier: createNativeVerifier(),
      rateLimit: false,
    });
    const get = (path: string) => app.request(`http://edge${path}`);
    // Warm: the header at 6 is verified (and cached) with an honest certificate.
    const header = await get("/v1/headers/6");
    expect(header.status).toBe(200);
    // Verified whole, so nothing is marked as the upstream's word.
    expect(header.headers.get("x-edgeledger-unverified")).toBeNull();
    // Then the upstream lies about height 6's certificate in a block answer.
    up.state.forge = true;
    const forged = await get("/v1/blocks/6");
    expect(forged.status).toBe(502);
    expect(await forged.json()).toMatchObject({ code: "EDGE_UNVERIFIED" });
    // Nothing of it was cached: honest again, the edge asks again and serves what verifies.
    up.state.forge = false;
    const asked = up.state.asked.length;
    const honest = await get("/v1/blocks/6");
    expect(honest.status).toBe(200);
    expect(up.state.asked.length).toBeGreaterThan(asked);
    const served = (await honest.json()) as { block: { certificateBytes: string } };
    expect(honest.headers.get("x-edgeledger-unverified")).toBeNull();
    expect(served.block.certificateBytes).toBe(
      toHex(encodeFinalityCertificate(c.certify(c.headers[6]!, [0, 1, 2]))),
    );
  });
});
