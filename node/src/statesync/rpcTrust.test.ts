/**
 * Trust from genesis over the HTTP APIs of statesync.rpcServers: real API
 * servers on loopback (api/server.ts over the node service of a one-validator
 * chain of 8 blocks) and the SDK's HTTP transport and light client. Honest
 * servers agree on header 8; a server that tampers with the header, attaches
 * a certificate the validator did not sign, or serves another genesis is
 * refused by name (STATESYNC_RPC_UNVERIFIED), a server that is down is
 * STATESYNC_RPC_UNAVAILABLE, too few agreeing is STATESYNC_RPC_TOO_FEW, and
 * a fork that verifies (a second chain signed by the same validator) stops
 * the join (STATESYNC_RPC_CONFLICT).
 */
import type { CertifiedHeaderJson } from "@edgeledger/sdk/api";
import { certifiedHeaderJson, genesisJson } from "@edgeledger/sdk/api";
import { blockHash, toHex } from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeService } from "../api/nodeService.ts";
import { createApiServer } from "../api/server.ts";
import type { NodeService } from "../api/service.ts";
import { genesisHeader } from "../chain/genesis.ts";
import { certifyAlone, keyOf, NOW, openTestChain, removeTestDirs } from "../testing/fixtures.ts";
import { commitTransferBlocks, stateSyncGenesis } from "../testing/stateSyncChain.ts";
import { lightClientTrust, type StateSyncTrustError } from "./rpcTrust.ts";

const genesis = stateSyncGenesis(50);
const HEIGHT = 8;
const servers: FastifyInstance[] = [];
type TestChain = Awaited<ReturnType<typeof openTestChain>>;
let honest: TestChain;
let fork: TestChain;
const url: Record<string, string> = {};

async function serve(name: string, chain: TestChain, lie: Partial<NodeService> = {}) {
  const service = createNodeService({
    chain: chain.chain,
    db: chain.db,
    mempool: chain.mempool,
    validatorKey: () => null,
    version: "test",
    health: () => {
      throw new Error("not asked here");
    },
  });
  const app = createApiServer({ ...service, ...lie });
  servers.push(app);
  url[name] = await app.listen({ host: "127.0.0.1", port: 0 });
}

/** The honest chain's header at `h`, spoilt by `spoil`. */
const lyingHeader =
  (spoil: (h: number) => CertifiedHeaderJson | null) =>
  async (h: number): Promise<CertifiedHeaderJson | null> =>
    spoil(h);

beforeAll(async () => {
  honest = await openTestChain(genesis);
  await commitTransferBlocks(honest.chain, HEIGHT);
  fork = await openTestChain(genesis);
  await commitTransferBlocks(fork.chain, HEIGHT, undefined, 6n);
  const header = (h: number) => honest.db.getHeader(h)!;
  const certificate = (h: number) => honest.db.getCertificate(h)!;
  await serve("a", honest);
  await serve("b", honest);
  await serve("fork", fork);
  await serve("tampered", honest, {
    getHeaderByHeight: lyingHeader((h) =>
      certifiedHeaderJson(
        h === HEIGHT ? { ...header(h), stateRoot: new Uint8Array(32).fill(7) } : header(h),
        certificate(h),
      ),
    ),
  });
  await serve("wrongCertificate", honest, {
    getHeaderByHeight: lyingHeader((h) =>
      certifiedHeaderJson(
        header(h),
        h === HEIGHT ? certifyAlone(keyOf(2), h, blockHash(header(h))) : certificate(h),
      ),
    ),
  });
  await serve("otherGenesis", honest, {
    getGenesis: async () => {
      const other = { ...genesis, validators: [{ publicKey: keyOf(2).publicKey, power: 1n }] };
      return genesisJson(
        genesisHeader(other, honest.chain.genesisHeader.stateRoot).header,
        other.validators,
      );
    },
  });
  // Listening once, then closed: a server that is down.
  await serve("down", honest);
  await servers.pop()!.close();
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await honest.db.close();
  await fork.db.close();
  removeTestDirs();
});

function trust(names: string[], agree: number) {
  const refused: StateSyncTrustError[] = [];
  const hashAt = lightClientTrust({
    genesis,
    servers: names.map((n) => url[n]!),
    agree,
    verifier: createNativeVerifier(),
    onRefused: (err) => refused.push(err),
    now: () => NOW + 60_000,
  });
  return { hashAt, refused };
}

const refusals = (refused: StateSyncTrustError[]) =>
  refused.map((e) => ({ code: e.code, server: e.details["server"] }));

describe("trust from genesis by the light client (statesync.rpcServers)", () => {
  it("gives the header hash two honest servers verify from genesis", async () => {
    const { hashAt, refused } = trust(["a", "b"], 2);
    expect(toHex(await hashAt(HEIGHT))).toBe(toHex(blockHash(honest.db.getHeader(HEIGHT)!)));
    expect(refused).toEqual([]);
  });

  for (const liar of ["tampered", "wrongCertificate", "otherGenesis"])
    it(`refuses the ${liar} server by name and joins on the two that agree`, async () => {
      const { hashAt, refused } = trust([liar, "a", "b"], 2);
      expect(toHex(await hashAt(HEIGHT))).toBe(toHex(blockHash(honest.db.getHeader(HEIGHT)!)));
      expect(refusals(refused)).toEqual([{ code: "STATESYNC_RPC_UNVERIFIED", server: url[liar] }]);
    });

  it("does not join when fewer than rpcAgree servers verify the header (a liar and one that is down)", async () => {
    const { hashAt, refused } = trust(["tampered", "down", "a"], 2);
    await expect(hashAt(HEIGHT)).rejects.toMatchObject({ code: "STATESYNC_RPC_TOO_FEW" });
    expect(refusals(refused)).toEqual([
      { code: "STATESYNC_RPC_UNVERIFIED", server: url["tampered"] },
      { code: "STATESYNC_RPC_UNAVAILABLE", server: url["down"] },
    ]);
  });

  it("stops at a fork: two headers of one height that both verify from genesis", async () => {
    const { hashAt } = trust(["a", "fork"], 1);
    const err = await hashAt(HEIGHT).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STATESYNC_RPC_CONFLICT" });
    expect((err as Error).message).toContain(url["fork"]);
  });
});
