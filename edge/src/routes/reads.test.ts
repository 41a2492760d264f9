/**
 * The read routes' table alone: what plan each request becomes against a
 * fake head, and what each refuses before any upstream is asked.
 */
import { ApiError, addressFromPublicKey, formatAddress, SecretKey } from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import { EdgeError } from "../errors.ts";
import type { Head } from "../upstream/head.ts";
import type { AnswerVerifier, Verified } from "../upstream/verify.ts";
import type { ReadRequest } from "./checks.ts";
import { type ReadContext, type ReadRouteName, readPlans } from "./reads.ts";

const HEAD: Head = { height: 7, hash: "cd".repeat(32), time: 1_700_000_000_007 };
const GENESIS = "ab".repeat(32);

function context(over: Partial<ReadContext> = {}): ReadContext & { checks: number } {
  const ctx = {
    checks: 0,
    head: {
      head: HEAD,
      // Not fresh: every plan that needs the head must ask for a checked one.
      fresh: () => null,
      current: async () => {
        ctx.checks++;
        return HEAD;
      },
    },
    chainId: "testnet-1",
    genesisHash: GENESIS,
    latestTtlSeconds: 60,
    latestMaxAgeSeconds: 1,
    ...over,
  };
  return ctx;
}

const req = (
  params: Record<string, string>,
  query: Record<string, string[]> = {},
): ReadRequest => ({
  param: (name) => params[name] ?? "",
  queries: () => query,
});

/** A verifier that records what it was asked to check. */
function recorder(): { verifier: AnswerVerifier; asked: unknown[] } {
  const asked: unknown[] = [];
  const ok = async (...args: unknown[]): Promise<Verified> => {
    asked.push(args.slice(1));
    return { json: {}, final: true };
  };
  return {
    asked,
    verifier: {
      account: ok,
      block: ok,
      header: ok,
      transaction: ok,
      validators: ok,
      genesis: ok,
      headerAt: async () => {
        throw new Error("not used");
      },
      watchHeads: () => () => {},
    },
  };
}

describe("the read plans", () => {
  it("resolves 'latest' to the verified head and keys it under that height", async () => {
    const ctx = context();
    const plan = await readPlans.getBlock(req({ id: "latest" }), ctx);
    expect(plan).toMatchObject({
      key: "block/7",
      path: "/v1/blocks/7",
      latest: true,
      notFoundMeansLagging: true,
    });
    expect(ctx.checks).toBe(1);
    const { verifier, asked } = recorder();
    await plan.verify(verifier, {}, 0);
    expect(asked).toEqual([[{ height: 7 }]]);
  });

  it("an account read for 'latest' is kept briefly; asked by height, for good", async () => {
    const address = formatAddress(
      addressFromPublicKey(SecretKey.fromSeed(new Uint8Array(32).fill(3)).publicKey),
    );
    const latest = await readPlans.getAccount(req({ address: address.toUpperCase() }), context());
    expect(latest).toMatchObject({
      key: `account/${address}/7`,
      path: `/v1/accounts/${address}?height=7`,
      latest: true,
      policy: { ttlSeconds: 60 },
    });
    const byHeight = await readPlans.getAccount(req({ address }, { height: ["3"] }), context());
    expect(byHeight).toMatchObject({ key: `account/${address}/3`, latest: false });
    expect(byHeight.policy).toBeUndefined();
  });

  it("asks by hash without the head, and a 404 for it is an answer, not lag", async () => {
    const ctx = context();
    const hash = "ef".repeat(32);
    const plan = await readPlans.getBlock(req({ id: hash }), ctx);
    expect(plan).toMatchObject({
      key: `block/${hash}`,
      latest: false,
      notFoundMeansLagging: false,
    });
    expect(ctx.checks).toBe(0);
  });

  it("a height past the head is not lag: an upstream's 404 for it is final", async () => {
    const plan = await readPlans.getHeader(req({ height: "8" }), context());
    expect(plan).toMatchObject({ key: "header/8", latest: false, notFoundMeansLagging: false });
    expect((await readPlans.getHeader(req({ height: "7" }), context())).notFoundMeansLagging).toBe(
      true,
    );
  });

  it("refuses a validator set later than the next block's, naming the verified head", async () => {
    await expect(
      readPlans.getValidators(req({}, { height: ["9"] }), context()),
    ).rejects.toMatchObject({ code: "HEIGHT_NOT_AVAILABLE", details: { height: 9, latest: 7 } });
    const next = await readPlans.getValidators(req({}), context());
    expect(next).toMatchObject({
      key: "validators/8",
      path: "/v1/validators?height=8",
      latest: true,
      notFoundMeansLagging: true,
    });
  });

  it("cannot vouch for a genesis when it trusts a checkpoint", async () => {
    const refused = await Promise.resolve()
      .then(() => readPlans.getGenesis(req({}), context({ genesisHash: undefined })))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EdgeError);
    expect((refused as EdgeError).code).toBe("EDGE_NOT_VERIFIABLE");
  });

  it("refuses malformed ids and stray queries before looking at the head", async () => {
    const ctx = context();
    const cases: [ReadRouteName, Record<string, string>, Record<string, string[]>][] = [
      ["getBlock", { id: "7a" }, {}],
      ["getBlock", { id: "7" }, { x: ["1"] }],
      ["getHeader", { height: "latest" }, {}],
      ["getTransaction", { hash: "AB".repeat(32) }, {}],
      ["getStatus", {}, { height: ["1"] }],
    ];
    for (const [name, params, query] of cases) {
      const refused = await Promise.resolve()
        .then(() => readPlans[name](req(params, query), ctx))
        .catch((e: unknown) => e);
      expect(refused, `${name} ${JSON.stringify(params)}`).toBeInstanceOf(ApiError);
      expect((refused as ApiError).code).toBe("REQUEST_INVALID");
    }
    expect(ctx.checks).toBe(0);
  });

  it("the status is the edge's view; an upstream on another chain fails verification", async () => {
    const plan = await readPlans.getStatus(req({}), context());
    expect(plan).toMatchObject({
      key: "status/7",
      latest: true,
      policy: { ttlSeconds: 1 },
      unverified: ["mempool", "protocolVersion", "upgrades"],
    });
    const { verifier } = recorder();
    const upstream = {
      chainId: "testnet-1",
      genesisHash: GENESIS,
      mempool: { size: 2, bytes: 9 },
      protocolVersion: 2,
      upgrades: [{ height: 5, version: 2 }],
    };
    const verified = await plan.verify(verifier, { ...upstream, height: 99 }, 0);
    expect(verified).toMatchObject({
      json: {
        height: 7,
        latestHash: HEAD.hash,
        validator: null,
        mempool: { size: 2, bytes: 9 },
        protocolVersion: 2,
        upgrades: [{ height: 5, version: 2 }],
      },
      etag: `W/"${HEAD.hash}"`,
      final: true,
    });
    await expect(
      plan.verify(verifier, { ...upstream, genesisHash: "00".repeat(32) }, 3),
    ).rejects.toMatchObject({ code: "EDGE_UNVERIFIED" });
    await expect(plan.verify(verifier, { ...upstream, chainId: "other" }, 3)).rejects.toMatchObject(
      { code: "EDGE_UNVERIFIED" },
    );
  });
});
