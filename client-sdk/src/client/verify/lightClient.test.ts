import { describe, expect, it } from "vitest";
import type { CertifiedHeaderJson, GenesisJson, ValidatorsJson } from "../../api/types.ts";
import { VerificationError } from "../../errors/client.ts";
import { ApiError } from "../../errors/protocol.ts";
import { type BlockHeader, blockHash, encodeBlockHeader } from "../../protocol/block.ts";
import { toHex } from "../../protocol/bytes.ts";
import {
  encodeFinalityCertificate,
  type FinalityCertificate,
  genesisCertificate,
} from "../../protocol/finalityCertificate.ts";
import { createNativeVerifier } from "../../protocol/node.ts";
import {
  CHAIN_ID,
  certify,
  makeHeader,
  makeValidators,
  type TestValidators,
} from "../../protocol/testing/chain.ts";
import { encodeValidatorSet, validatorSetHash } from "../../protocol/validatorSet.ts";
import type { Transport, TransportRequest } from "../transports/transport.ts";
import { verifyGenesisAnswer } from "./genesis.ts";
import { LightClient } from "./lightClient.ts";
import { memoryTrustStore } from "./trust.ts";

/**
 * A chain in memory: heights 0..length-1, signed by set `a` up to `switchAt`
 * (exclusive) and by the disjoint set `b` from there, announced one height
 * before, as the node does.
 */
function makeChain(length: number, switchAt: number) {
  const a = makeValidators(4, 21);
  const b = makeValidators(4, 22);
  const setAt = (h: number): TestValidators => (h < switchAt ? a : b);
  const headers: BlockHeader[] = [];
  for (let h = 0; h < length; h++) {
    const parent = headers[h - 1] ?? null;
    const header =
      h === 0
        ? makeHeader(null, a.set, a.set, { height: 0 })
        : makeHeader(parent, setAt(h).set, setAt(h + 1).set);
    headers.push(header);
  }
  const certified = (header: BlockHeader, set: TestValidators): CertifiedHeaderJson =>
    ({
      headerBytes: toHex(encodeBlockHeader(header)),
      certificateBytes: toHex(encodeFinalityCertificate(certify(header, set, [0, 1, 2]))),
    }) as CertifiedHeaderJson;
  return { a, b, setAt, headers, certified };
}

type Chain = ReturnType<typeof makeChain>;

/** A transport that serves `chain` and records which header heights were fetched. */
function serve(
  chain: Chain,
  overrides: {
    header?: (h: number) => CertifiedHeaderJson | undefined;
    set?: (h: number) => TestValidators | undefined;
  } = {},
) {
  const fetched: number[] = [];
  const setFetches: number[] = [];
  const transport: Transport = {
    urls: ["memory:"],
    async request<T>(req: TransportRequest): Promise<T> {
      if (req.path === "/v1/genesis") {
        const g = chain.headers[0]!;
        return {
          hash: toHex(blockHash(g)),
          headerBytes: toHex(encodeBlockHeader(g)),
          validatorSetBytes: toHex(encodeValidatorSet(chain.a.set)),
        } as GenesisJson as T;
      }
      const header = /^\/v1\/headers\/(\d+)$/.exec(req.path);
      if (header) {
        const h = Number(header[1]);
        fetched.push(h);
        const custom = overrides.header?.(h);
        if (custom) return custom as T;
        const found = chain.headers[h];
        if (!found) throw new ApiError("NOT_FOUND", "no such header");
        return chain.certified(found, chain.setAt(h)) as T;
      }
      if (req.path === "/v1/validators") {
        const h = Number(req.query?.["height"]);
        setFetches.push(h);
        const set = (overrides.set?.(h) ?? chain.setAt(h)).set;
        return {
          height: h,
          hash: toHex(validatorSetHash(set)),
          validatorSetBytes: toHex(encodeValidatorSet(set)),
        } as ValidatorsJson as T;
      }
      throw new ApiError("NOT_FOUND", `no route ${req.path}`);
    },
    events: () => {
      throw new Error("no events here");
    },
  };
  return { transport, fetched, setFetches };
}

const verifier = createNativeVerifier();
const genesisHash = (chain: Chain) => toHex(blockHash(chain.headers[0]!));

async function codeOf(p: Promise<unknown>) {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof VerificationError ? err.code : String(err);
  }
}

describe("light client", () => {
  it("skips straight to a header the trusted set signed", async () => {
    const chain = makeChain(40, 1000);
    const { transport, fetched, setFetches } = serve(chain);
    const lc = new LightClient({
      chainId: CHAIN_ID,
      trust: { genesisHash: genesisHash(chain) },
      transport,
      verifier,
      now: () => chain.headers[39]!.time + 1000, // within the trusting period
    });
    expect((await lc.header(39)).height).toBe(39);
    expect(fetched).toEqual([39]);
    expect(lc.latest?.height).toBe(39);
    // The set never changed: once checked against its hash, it is not fetched again.
    await lc.header(20);
    expect(setFetches).toHaveLength(0); // the genesis answer carried it
  });

  it("bisects across a change to a disjoint set, and refuses a header that set never signed", async () => {
    const chain = makeChain(40, 17);
    const { transport, fetched } = serve(chain);
    const now = () => chain.headers[39]!.time + 1000;
    const lc = new LightClient({
      chainId: CHAIN_ID,
      trust: { genesisHash: genesisHash(chain) },
      transport,
      verifier,
      now,
    });
    expect(toHex(blockHash(await lc.header(39)))).toBe(toHex(blockHash(chain.headers[39]!)));
    // Not one fetch per height: a handful of midpoints down to the handover.
    expect(fetched.length).toBeLessThan(12);
    expect(fetched).toContain(16);

    // A header 39 made up by strangers, with their own set served for it: refused.
    const strangers = makeValidators(4, 23);
    const forged = makeHeader(chain.headers[38]!, strangers.set, strangers.set, {
      time: chain.headers[39]!.time + 1,
    });
    const liar = serve(chain, {
      header: (h) => (h === 39 ? chain.certified(forged, strangers) : undefined),
      set: (h) => (h === 39 ? strangers : undefined),
    });
    const fooled = new LightClient({
      chainId: CHAIN_ID,
      trust: { genesisHash: genesisHash(chain) },
      transport: liar.transport,
      verifier,
      now,
    });
    expect(await codeOf(fooled.header(39))).toBe("VERIFY_HEADER");
  });

  it("bisects through the headers a pruning server kept when it refuses the middle one (HEADER_PRUNED)", async () => {
    const chain = makeChain(40, 17);
    // Kept: the last header set a signs (16: its next set is b) and 35..39.
    const kept = (h: number) => h === 16 || h >= 35;
    const pruned = (h: number, details: Record<string, unknown>) => {
      if (kept(h)) return undefined;
      throw new ApiError("HEADER_PRUNED", `header ${h} dropped`, { details });
    };
    const now = () => chain.headers[39]!.time + 1000;
    const client = (header: (h: number) => CertifiedHeaderJson | undefined) => {
      const served = serve(chain, { header });
      const lc = new LightClient({
        chainId: CHAIN_ID,
        trust: { genesisHash: genesisHash(chain) },
        transport: served.transport,
        verifier,
        now,
      });
      return { lc, fetched: served.fetched };
    };
    const honest = client((h) =>
      pruned(h, { keptBelow: h > 16 ? 16 : null, keptAbove: h < 16 ? 16 : 35 }),
    );
    expect((await honest.lc.header(39)).height).toBe(39);
    expect(honest.fetched).toContain(16);
    // A server naming heights outside the range being bisected is not followed (no loop).
    for (const lie of [
      { keptBelow: 0, keptAbove: 39 },
      { keptBelow: -1, keptAbove: 1e9 },
      { keptBelow: "16", keptAbove: null },
    ]) {
      const liar = client((h) => pruned(h, lie));
      expect(await codeOf(liar.lc.header(39)), JSON.stringify(lie)).toBe("VERIFY_HEADER");
    }
  });

  it("catches a fork signed by a set that already handed over, once trust has expired", async () => {
    // Skipping trusts that fewer than 1/3 of a set turn Byzantine within the trusting
    // period; an old set that all signs a fork later breaks that, and only walking
    // height by height (what the client does once the period is over) sees the handover.
    const chain = makeChain(40, 17);
    const fork = makeHeader(chain.headers[38]!, chain.a.set, chain.a.set, {
      time: chain.headers[39]!.time + 1,
    });
    const liar = serve(chain, {
      header: (h) => (h === 39 ? chain.certified(fork, chain.a) : undefined),
      set: (h) => (h === 39 ? chain.a : undefined),
    });
    const walking = new LightClient({
      chainId: CHAIN_ID,
      trust: { genesisHash: genesisHash(chain) },
      transport: liar.transport,
      verifier,
      trustingPeriodMs: 1,
      now: () => chain.headers[39]!.time + 10_000,
    });
    expect(await codeOf(walking.header(39))).toBe("VERIFY_HEADER");
  });

  it("refuses a server whose genesis is not the pinned one", async () => {
    const chain = makeChain(5, 1000);
    const other = makeChain(5, 1000);
    const lc = new LightClient({
      chainId: CHAIN_ID,
      trust: {
        genesisHash:
          genesisHash(other) === genesisHash(chain) ? "00".repeat(32) : genesisHash(other),
      },
      transport: serve(chain).transport,
      verifier,
    });
    expect(await codeOf(lc.header(3))).toBe("VERIFY_ANCHOR");
  });

  it("checks a genesis answer on its own: pinned hash, chain, and the set it names", () => {
    const chain = makeChain(3, 1000);
    const g = chain.headers[0]!;
    const answer = {
      hash: toHex(blockHash(g)),
      headerBytes: toHex(encodeBlockHeader(g)),
      validatorSetBytes: toHex(encodeValidatorSet(chain.a.set)),
    } as GenesisJson;
    const trusted = { chainId: CHAIN_ID, genesisHash: genesisHash(chain) };
    expect(verifyGenesisAnswer(answer, trusted).header.height).toBe(0);
    const code = (f: () => unknown) => {
      try {
        f();
        return "ok";
      } catch (err) {
        return err instanceof VerificationError ? err.code : String(err);
      }
    };
    const otherSet = { ...answer, validatorSetBytes: toHex(encodeValidatorSet(chain.b.set)) };
    expect(code(() => verifyGenesisAnswer(otherSet, trusted))).toBe("VERIFY_ANCHOR");
    expect(code(() => verifyGenesisAnswer({ ...answer, headerBytes: "00" }, trusted))).toBe(
      "VERIFY_ANCHOR",
    );
    expect(code(() => verifyGenesisAnswer(answer, { ...trusted, chainId: "other" }))).toBe(
      "VERIFY_ANCHOR",
    );
  });

  it("refuses a valid header of another height served for the one asked", async () => {
    const chain = makeChain(10, 1000);
    const { transport } = serve(chain, {
      header: (h) => (h === 7 ? chain.certified(chain.headers[5]!, chain.setAt(5)) : undefined),
    });
    const lc = new LightClient({
      chainId: CHAIN_ID,
      trust: { genesisHash: genesisHash(chain) },
      transport,
      verifier,
      now: () => chain.headers[9]!.time,
    });
    expect(await codeOf(lc.header(7))).toBe("VERIFY_MISMATCH");
  });

  it("checks every certificate it is given, also for a header it has already verified", async () => {
    const chain = makeChain(10, 1000);
    const lc = new LightClient({
      chainId: CHAIN_ID,
      trust: { genesisHash: genesisHash(chain) },
      transport: serve(chain).transport,
      verifier,
      now: () => chain.headers[9]!.time,
    });
    const honest = chain.certified(chain.headers[6]!, chain.setAt(6));
    const first = await lc.verifyCertifiedHeader(honest);
    expect(first.header.height).toBe(6);
    const certificate = (signers: number[], round = 0) =>
      toHex(
        encodeFinalityCertificate(certify(chain.headers[6]!, chain.setAt(6), signers, { round })),
      );
    // Warm now: a forged certificate for the known header is refused all the same.
    const forged = (c: string) => ({ ...honest, certificateBytes: c });
    const badSignature = certificate([0, 1, 2]).replace(/.{8}$/, "00000000");
    expect(await codeOf(lc.verifyCertified(forged(badSignature)))).toBe("VERIFY_HEADER");
    expect(await codeOf(lc.verifyCertified(forged(certificate([0, 1]))))).toBe("VERIFY_HEADER");
    expect(await codeOf(lc.verifyCertified(forged("00")))).toBe("VERIFY_HEADER");
    // Another valid certificate of the same block (other signers) is one it checked: returned as such.
    const other = await lc.verifyCertifiedHeader(forged(certificate([1, 2, 3])));
    expect(other.certificate.signatures.map((s) => s.validatorIndex)).toEqual([1, 2, 3]);
    expect(toHex(encodeFinalityCertificate(other.certificate))).toBe(certificate([1, 2, 3]));

    // The genesis is trusted by its hash: its conventional empty certificate, and no other.
    const genesis = chain.headers[0]!;
    const atGenesis = (c: FinalityCertificate): CertifiedHeaderJson => ({
      ...honest,
      headerBytes: toHex(encodeBlockHeader(genesis)),
      certificateBytes: toHex(encodeFinalityCertificate(c)),
    });
    const empty = genesisCertificate(blockHash(genesis));
    expect((await lc.verifyCertifiedHeader(atGenesis(empty))).header.height).toBe(0);
    expect(await codeOf(lc.verifyCertified(atGenesis({ ...empty, round: 1 })))).toBe(
      "VERIFY_HEADER",
    );
    expect(await codeOf(lc.verifyCertified(atGenesis(certify(genesis, chain.a, [0, 1, 2]))))).toBe(
      "VERIFY_HEADER",
    );
  });

  it("refuses a header stamped ahead of its clock, beyond the drift it allows", async () => {
    const chain = makeChain(10, 1000);
    const at = (now: number) =>
      new LightClient({
        chainId: CHAIN_ID,
        trust: { genesisHash: genesisHash(chain) },
        transport: serve(chain).transport,
        verifier,
        maxClockDriftMs: 1000,
        now: () => now,
      });
    const time = chain.headers[8]!.time;
    expect(await codeOf(at(time - 2000).header(8))).toBe("VERIFY_HEADER");
    expect(await codeOf(at(time - 500).header(8))).toBe("ok");
  });

  it("walks height by height from a trusted header older than the trusting period", async () => {
    const chain = makeChain(12, 1000);
    const { transport, fetched } = serve(chain);
    const lc = new LightClient({
      chainId: CHAIN_ID,
      trust: { genesisHash: genesisHash(chain) },
      transport,
      verifier,
      trustingPeriodMs: 1,
      now: () => chain.headers[11]!.time + 10_000,
    });
    await lc.header(11);
    expect([...new Set(fetched)].sort((x, y) => x - y)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    ]);
  });

  it("keeps its latest verified header in the trust store across restarts", async () => {
    const chain = makeChain(30, 1000);
    const store = memoryTrustStore();
    const first = new LightClient({
      chainId: CHAIN_ID,
      trust: { genesisHash: genesisHash(chain) },
      transport: serve(chain).transport,
      verifier,
      store,
    });
    await first.header(20);
    await new Promise((r) => setTimeout(r, 0)); // the save is not awaited by header()
    const again = serve(chain);
    const second = new LightClient({
      chainId: CHAIN_ID,
      trust: { genesisHash: genesisHash(chain) },
      transport: again.transport,
      verifier,
      store,
      trustingPeriodMs: 1,
      now: () => chain.headers[29]!.time + 10_000,
    });
    await second.ready();
    expect(second.latest?.height).toBe(20);
    // Walking (trust expired) starts from 20, not from genesis.
    await second.header(23);
    expect([...new Set(again.fetched)].sort((x, y) => x - y)).toEqual([21, 22, 23]);
  });
});
