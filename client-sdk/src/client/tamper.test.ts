/**
 * A lying server, exhaustively: the SDK's read actions against a fake
 * fetch that serves a real (in-memory) chain's answers, with one field of
 * one answer changed at a time — every leaf of every read route's answer,
 * every kind of change (leafMutations.ts) — for a cold client (nothing
 * verified yet) and a warm one (it verified the header at that height and
 * the latest head first). Each read must either throw a VerificationError
 * with a VERIFY_* code, or return exactly what the honest server's answer
 * gives (a change to a field the SDK does not read is harmless). The
 * network scenarios (test/scenarios/sdk.test.ts, edge.test.ts) run a
 * sample of the same walk through real processes.
 */
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import type { AccountJson } from "../api/types.ts";
import { VerificationError } from "../errors/client.ts";
import { blockHash } from "../protocol/block.ts";
import { toHex } from "../protocol/bytes.ts";
import type { Client } from "./clients/createClient.ts";
import { flipHex, type Json, leafMutations } from "./testing/leafMutations.ts";
import {
  answer,
  clientOf,
  fakeServer,
  makeServedChain,
  NOT_JSON,
  Refusal,
  type ServedChain,
  type Temperature,
} from "./testing/servedChain.ts";

/** One read route: the request the SDK sends for it, and the action that reads it. */
interface Route {
  readonly name: string;
  /** The path (with query) of the answer to change. */
  readonly path: string;
  /** The height it reads at (a warm client verified this header first). */
  readonly height: number;
  readonly read: (client: Client) => Promise<unknown>;
}

function routesOf(chain: ServedChain): Route[] {
  const { b, c } = chain.addresses;
  return [
    {
      name: "account latest",
      path: `/v1/accounts/${b}`,
      height: chain.head,
      read: (cl) => cl.getAccount({ address: b }),
    },
    {
      name: "account latest, absent",
      path: `/v1/accounts/${c}`,
      height: chain.head,
      read: (cl) => cl.getAccount({ address: c }),
    },
    {
      name: "account at a height",
      path: `/v1/accounts/${b}?height=1`,
      height: 1,
      read: (cl) => cl.getAccount({ address: b, height: 1 }),
    },
    {
      name: "block by height",
      path: "/v1/blocks/1",
      height: 1,
      read: (cl) => cl.getBlock({ height: 1 }),
    },
    {
      name: "block by hash",
      path: `/v1/blocks/${toHex(blockHash(chain.headers[1]!))}`,
      height: 1,
      read: (cl) => cl.getBlock({ hash: toHex(blockHash(chain.headers[1]!)) }),
    },
    {
      name: "block latest",
      path: "/v1/blocks/latest",
      height: chain.head,
      read: (cl) => cl.getBlock(),
    },
    {
      name: "header",
      path: "/v1/headers/2",
      height: 2,
      read: (cl) => cl.lightClient.header(2),
    },
    {
      name: "transaction committed",
      path: `/v1/transactions/${chain.txs.paid}`,
      height: 1,
      read: (cl) => cl.getTransaction({ hash: chain.txs.paid }),
    },
    {
      name: "transaction pending",
      path: `/v1/transactions/${chain.txs.pending}`,
      height: chain.head,
      read: (cl) => cl.getTransaction({ hash: chain.txs.pending }),
    },
    {
      name: "transaction dropped",
      path: `/v1/transactions/${chain.txs.dropped}`,
      height: chain.head,
      read: (cl) => cl.getTransaction({ hash: chain.txs.dropped }),
    },
    {
      name: "validators (next block)",
      path: "/v1/validators",
      height: chain.head,
      read: (cl) => cl.getValidators(),
    },
    {
      name: "validators at a height",
      path: "/v1/validators?height=2",
      height: 2,
      read: (cl) => cl.getValidators({ height: 2 }),
    },
    {
      // The anchor: what a cold client checks first, whatever it reads.
      name: "genesis",
      path: "/v1/genesis",
      height: 1,
      read: (cl) => cl.getAccount({ address: b, height: 1 }),
    },
  ];
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Acceptable: a VerificationError with a VERIFY_* code; the honest value;
 * or an answer the SDK itself marks unverified (`verified: false`: a
 * pending or dropped status, the server's word, which no proof can back —
 * a denial, like a 404, that the SDK cannot disprove).
 */
function judge(result: Outcome, honest: unknown): string | null {
  if (!result.ok) {
    const e = result.error;
    if (e instanceof VerificationError && e.code.startsWith("VERIFY_")) return null;
    const named = e as { name?: string; code?: string; message?: string };
    return `threw ${named.name}${named.code ? ` ${named.code}` : ""}: ${String(named.message).split("\n")[0]}`;
  }
  if (isDeepStrictEqual(result.value, honest)) return null;
  if ((result.value as { verified?: unknown } | null)?.verified === false)
    return unverifiedShape(result.value)
      ? null
      : `returned a malformed unverified value ${show(result.value)}`;
  return `returned a forged value ${show(result.value)}`;
}

const show = (v: unknown) =>
  JSON.stringify(v, (_k, x) =>
    typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? toHex(x) : x,
  ).slice(0, 200);

/** What the SDK documents for an answer it cannot prove: pending, or dropped with a string code and message. */
function unverifiedShape(value: unknown): boolean {
  const v = value as { status?: unknown; error?: { code?: unknown; message?: unknown } };
  if (v.status === "pending") return true;
  return (
    v.status === "dropped" &&
    typeof v.error?.code === "string" &&
    typeof v.error.message === "string"
  );
}

/** Walks every mutation of `route`'s answer for `temperature` clients; the failures. */
async function walk(
  chain: ServedChain,
  route: Route,
  temperature: Temperature,
): Promise<{ tried: number; failures: string[] }> {
  const server = fakeServer(chain);
  const honestClient = await clientOf(chain, server, "cold", route.height);
  const honest = await route.read(honestClient);
  const body = await answer(chain, new URL(`http://server.test${route.path}`));
  if (body instanceof Refusal) throw new Error(`${route.name}: the fake refused ${route.path}`);
  const failures: string[] = [];
  const mutations = [...leafMutations(body), NOT_JSON];
  for (const mutation of mutations) {
    server.state.tamper = null;
    const client = await clientOf(chain, server, temperature, route.height);
    server.state.tamper = { match: (p) => p === route.path, mutation };
    const verdict = judge(await outcome(route.read(client)), honest);
    const id = `${route.name} (${temperature}) ${mutation.path} ${mutation.kind}`;
    if (verdict) failures.push(`${id}: ${verdict}`);
  }
  return { tried: mutations.length, failures };
}

describe("a lying server changes one field of one answer: every leaf, every route", async () => {
  const chain = await makeServedChain();
  for (const route of routesOf(chain))
    for (const temperature of ["cold", "warm"] as const) {
      // A warm client holds the anchor already: it never reads the genesis again.
      if (route.name === "genesis" && temperature === "warm") continue;
      it(`${route.name}, ${temperature} client`, async () => {
        const { tried, failures } = await walk(chain, route, temperature);
        expect(tried).toBeGreaterThan(10);
        expect(failures.join("\n")).toBe("");
      });
    }

  // A known header does not make its certificate known: a server passing the
  // answer on (the edge) would serve and cache a forged one.
  it("a warm client refuses a forged certificate for a height it verified", async () => {
    const server = fakeServer(chain);
    const client = await clientOf(chain, server, "warm", 1);
    const path = `/v1/accounts/${chain.addresses.b}?height=1`;
    const body = (await answer(
      chain,
      new URL(`http://server.test${path}`),
    )) as unknown as AccountJson;
    const bytes = body.block.certificateBytes;
    // The last signature's last byte: the certificate still decodes; that signature is forged.
    const forged = {
      ...body,
      block: { ...body.block, certificateBytes: flipHex(bytes, bytes.length - 1) },
    };
    server.state.tamper = {
      match: (p) => p === path,
      mutation: {
        path: "block.certificateBytes",
        kind: "flip-hex-last",
        apply: () => forged as unknown as Json,
      },
    };
    const result = await outcome(client.getAccount({ address: chain.addresses.b, height: 1 }));
    expect(result.ok ? "verified" : (result.error as VerificationError).code).toBe("VERIFY_HEADER");
  });

  it("the honest fake server's answers all verify (the walk's control)", async () => {
    const server = fakeServer(chain);
    for (const route of routesOf(chain)) {
      const client = await clientOf(chain, server, "cold", route.height);
      expect(judge(await outcome(route.read(client)), await route.read(client)), route.name).toBe(
        null,
      );
    }
    const client = await clientOf(chain, server, "cold", 1);
    expect((await client.getAccount({ address: chain.addresses.b })).balance).toBe(25n);
    expect((await client.getAccount({ address: chain.addresses.a, height: 0 })).balance).toBe(
      1000n,
    );
    expect(await client.getTransaction({ hash: "ab".repeat(32) })).toBeNull();
  });
});
