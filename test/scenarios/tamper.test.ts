/**
 * A lying upstream on a real network: a proxy in front of a node changes
 * one leaf of one answer at a time (leafMutations.ts: a hex digit, a
 * number ±1, a type, a deleted or unknown field, a body that is not JSON),
 * for the read routes (account latest and at a height, block by height and
 * by hash, header, committed transaction, validators at a height, genesis;
 * a latest answer is compared with the node's at the height it names), and
 * four readers:
 *
 *   - a cold SDK client (nothing verified) and a warm one (it verified the
 *     header at that height and the head first): each read throws a
 *     VerificationError with a VERIFY_* code or returns exactly the honest
 *     value;
 *   - a cold edge and a warm one (it verified and cached the header at that
 *     height first), with the proxy as its upstream: it answers with an
 *     error or exactly the honest answer, and once the tampering stops it
 *     serves the honest answer, which a fresh verifying SDK client accepts —
 *     nothing forged was cached.
 *
 * The SDK's unit test (client-sdk/src/client/tamper.test.ts) walks every
 * mutation of every route, "latest" reads included; this file runs a
 * deterministic sample (every leaf once, every kind of change once) through
 * real processes, against one network.
 */

import { isDeepStrictEqual } from "node:util";
import { createEdgeApp, type EdgeApp } from "@edgeledger/edge";
import { genesisHashOf } from "@edgeledger/node/testing";
import {
  addressFromPublicKey,
  type Client,
  createClient,
  formatAddress,
  http,
  localSigner,
  SecretKey,
  VerificationError,
} from "@edgeledger/sdk";
import type { BlockJson } from "@edgeledger/sdk/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Json,
  type LeafMutation,
  leafMutations,
} from "../../client-sdk/src/client/testing/leafMutations.ts";
import { TestNetwork } from "../src/network.ts";
import { FaultPlan, type UpstreamProxy, upstreamProxy } from "../src/proxy.ts";

const plan = new FaultPlan();
let net: TestNetwork;
let proxy: UpstreamProxy;
let genesisHash: string;
let routes: Route[];

/** One read route: the answer to change, and how the SDK reads it. */
interface Route {
  readonly name: string;
  /** Path and query of the answer the proxy changes (the SDK's and the edge's request). */
  readonly path: string;
  /** The height it reads at: a warm reader verified this header first. */
  readonly height: number;
  readonly read: (client: Client) => Promise<unknown>;
  /**
   * A "latest" read: the edge asks upstream for the head's height
   * (`?height=`), and the honest answer is the node's at the height served.
   */
  readonly latest?: boolean;
  /** The node's answer, untouched (for a latest read: at the time the walk starts). */
  honestJson: Json;
  /** What `read` returns against an honest server (idem). */
  honestValue: unknown;
}

/** The requests (path and query) whose answers the proxy changes for `route`. */
const matches = (route: Route) => (p: string) =>
  p === route.path || (route.latest === true && p.startsWith(`${route.path}?height=`));

/** The honest answer to compare a served one with: for a latest read, at the height it names. */
async function honestJsonFor(route: Route, served: unknown): Promise<Json> {
  const height = (served as { height?: unknown } | null)?.height;
  if (!route.latest || !Number.isSafeInteger(height)) return route.honestJson;
  return direct(`${route.path}?height=${height}`);
}

/** The honest value to compare a returned one with: for a latest read, at its height. */
async function honestValueFor(route: Route, returned: unknown): Promise<unknown> {
  const height = (returned as { height?: unknown } | null)?.height;
  if (!route.latest || !Number.isSafeInteger(height)) return route.honestValue;
  const address = route.path.slice("/v1/accounts/".length);
  return clientOf(net.urls[0]!).getAccount({ address, height: height as number });
}

const direct = async (path: string) => (await (await fetch(net.urls[0]! + path)).json()) as Json;

/** A body that is not JSON: the one change leafMutations cannot express. */
const NOT_JSON: LeafMutation = { path: "", kind: "answer-not-json", apply: (a) => a };

const clientOf = (url: string | { fetch: typeof fetch }) =>
  createClient({
    ...(typeof url === "string"
      ? { url, http: { retries: 0 } }
      : { transport: http("http://edge.test", { fetch: url.fetch, retries: 0 }) }),
    chainId: net.chainId,
    trust: { genesisHash },
  });

beforeAll(async () => {
  net = await TestNetwork.start({ validators: 4 });
  genesisHash = genesisHashOf(net.nodes[0]!.home);
  proxy = await upstreamProxy(net.urls[0]!, plan);
  const driver = clientOf(net.urls[0]!);
  const to = formatAddress(addressFromPublicKey(SecretKey.generate().publicKey));
  const sent = await driver.transfer({ signer: localSigner(net.funded), to, amount: 25n });
  net.submitted.add(sent.hash);
  const { height } = await sent.wait({ timeoutMs: 30_000 });
  const blockHash = ((await direct(`/v1/blocks/${height}`)) as unknown as BlockJson).block.header
    .hash;
  const defs: Omit<Route, "honestJson" | "honestValue">[] = [
    {
      // The edge keeps latest account answers for a while (latestTtlSeconds).
      name: "account latest",
      path: `/v1/accounts/${to}`,
      height,
      latest: true,
      read: (c) => c.getAccount({ address: to }),
    },
    {
      name: "account at a height",
      path: `/v1/accounts/${to}?height=${height}`,
      height,
      read: (c) => c.getAccount({ address: to, height }),
    },
    {
      name: "block by height",
      path: `/v1/blocks/${height}`,
      height,
      read: (c) => c.getBlock({ height }),
    },
    {
      name: "block by hash",
      path: `/v1/blocks/${blockHash}`,
      height,
      read: (c) => c.getBlock({ hash: blockHash }),
    },
    {
      name: "header",
      path: `/v1/headers/${height}`,
      height,
      read: (c) => c.lightClient.header(height),
    },
    {
      name: "transaction committed",
      path: `/v1/transactions/${sent.hash}`,
      height,
      read: (c) => c.getTransaction({ hash: sent.hash }),
    },
    {
      name: "validators at a height",
      path: `/v1/validators?height=${height}`,
      height,
      read: (c) => c.getValidators({ height }),
    },
    {
      // The anchor: what a cold reader checks first, whatever it reads.
      name: "genesis",
      path: "/v1/genesis",
      height,
      read: (c) => c.getAccount({ address: to, height }),
    },
  ];
  routes = [];
  for (const d of defs)
    routes.push({
      ...d,
      honestJson: await direct(d.path),
      honestValue: await d.read(clientOf(net.urls[0]!)),
    });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  if (!net) return;
  try {
    await net.check();
  } finally {
    await net.stop();
  }
}, 120_000);

/**
 * Every leaf changed once (the kinds taken in turn) and every kind of
 * change once: a deterministic fraction of the whole walk.
 */
function sample(mutations: readonly LeafMutation[]): LeafMutation[] {
  const byPath = new Map<string, LeafMutation[]>();
  for (const m of mutations) byPath.set(m.path, [...(byPath.get(m.path) ?? []), m]);
  const picked = new Set<LeafMutation>();
  let i = 0;
  for (const group of byPath.values()) picked.add(group[i++ % group.length]!);
  for (const m of mutations) if (![...picked].some((p) => p.kind === m.kind)) picked.add(m);
  return [...mutations.filter((m) => picked.has(m)), NOT_JSON];
}

/** While `fn` runs, the proxy changes every answer for `route` with `mutation`. */
async function tampered<T>(route: Route, mutation: LeafMutation, fn: () => Promise<T>): Promise<T> {
  const match = matches(route);
  plan.add(
    mutation === NOT_JSON
      ? { match, kind: "not-json", budget: Number.MAX_SAFE_INTEGER }
      : {
          match,
          kind: "mutate",
          budget: Number.MAX_SAFE_INTEGER,
          mutate: (body) => mutation.apply(body as Json),
        },
  );
  try {
    return await fn();
  } finally {
    plan.clear();
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
const outcome = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );

const show = (v: unknown) =>
  JSON.stringify(v, (_k, x) =>
    typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? "<bytes>" : x,
  ).slice(0, 160);

/** null when the SDK refused with VERIFY_* or returned the honest value; else what went wrong. */
function judgeSdk(result: Outcome, honest: unknown): string | null {
  if (!result.ok) {
    const e = result.error;
    if (e instanceof VerificationError && e.code.startsWith("VERIFY_")) return null;
    const n = e as { name?: string; code?: string; message?: string };
    return `threw ${n.name} ${n.code ?? ""}: ${String(n.message).split("\n")[0]}`;
  }
  return isDeepStrictEqual(result.value, honest) ? null : `returned ${show(result.value)}`;
}

type Temperature = "cold" | "warm";

/** How many requests for `route`'s answer reached the proxy so far. */
const askedFor = (route: Route) => proxy.requests.filter(matches(route)).length;

/**
 * What one change did: `verdict` null when it was handled right;
 * `refused` when the reader refused it; `reached` when the changed answer
 * was asked for at all (a warm reader may hold what it needs already).
 */
interface Check {
  readonly verdict: string | null;
  readonly refused: boolean;
  readonly reached: boolean;
}

async function sdkCheck(route: Route, mutation: LeafMutation, t: Temperature): Promise<Check> {
  const client = clientOf(proxy.url);
  if (t === "warm") {
    await client.lightClient.header(route.height);
    await client.lightClient.header((await client.getStatus()).height);
  }
  const asked = askedFor(route);
  const result = await tampered(route, mutation, () => outcome(route.read(client)));
  const reached = askedFor(route) > asked;
  const honest = await honestValueFor(route, result.ok ? result.value : null);
  return { verdict: judgeSdk(result, honest), refused: !result.ok, reached };
}

/** An edge whose one upstream is the proxy; `internal` collects what it answered as INTERNAL. */
const edgeOf = (internal: unknown[]): EdgeApp =>
  createEdgeApp({
    upstreams: [proxy.url],
    chainId: net.chainId,
    trust: { genesisHash },
    rateLimit: false,
    headMode: "poll",
    onInternalError: (err) => internal.push(err),
  });

async function edgeCheck(route: Route, mutation: LeafMutation, t: Temperature): Promise<Check> {
  const internal: unknown[] = [];
  const edge = edgeOf(internal);
  const get = async (path: string) => {
    const res = await edge.fetch(new Request(`http://edge.test${path}`));
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  };
  if (t === "warm") {
    // The header at that height; for a latest read, the head's too (its latest block).
    let warmed = await get(`/v1/headers/${route.height}`);
    if (warmed.status === 200 && route.latest) warmed = await get("/v1/blocks/latest");
    if (warmed.status !== 200)
      return {
        verdict: `warming up: ${warmed.status} ${show(warmed.json)}`,
        refused: false,
        reached: false,
      };
  }
  const asked = askedFor(route);
  const served = await tampered(route, mutation, () => get(route.path));
  const reached = askedFor(route) > asked;
  const refused = served.status !== 200;
  const fail = (verdict: string): Check => ({ verdict, refused, reached });
  if (!refused && !isDeepStrictEqual(served.json, await honestJsonFor(route, served.json)))
    return fail(`served a forged answer ${show(served.json)}`);
  if (refused && typeof (served.json as { code?: unknown }).code !== "string")
    return fail(`answered ${served.status} without a typed error: ${show(served.json)}`);
  // A forged answer is the upstream's fault, never the edge's own failure (a 5xx INTERNAL).
  if (internal.length > 0) return fail(`an internal error: ${String(internal[0])}`);
  // Nothing forged was cached: the edge now serves the honest answer...
  const after = await get(route.path);
  if (
    after.status !== 200 ||
    !isDeepStrictEqual(after.json, await honestJsonFor(route, after.json))
  )
    return fail(`after the tampering: ${after.status} ${show(after.json)}`);
  // ...and what it serves verifies, for a client that trusts it no more than the proxy.
  const fresh = clientOf({
    fetch: async (input, init) => edge.fetch(new Request(input, init)),
  });
  const read = await outcome(route.read(fresh));
  const verdict = judgeSdk(read, await honestValueFor(route, read.ok ? read.value : null));
  return {
    verdict: verdict && `a fresh client through the edge, afterwards: ${verdict}`,
    refused,
    reached,
  };
}

type Reader = "sdk" | "edge";

async function walkRoutes(reader: Reader, t: Temperature) {
  const failures: string[] = [];
  let tried = 0;
  let refused = 0;
  let reached = 0;
  for (const route of routes) {
    // A warm reader holds the anchor: it never reads the genesis again.
    if (route.name === "genesis" && t === "warm") continue;
    for (const m of sample(leafMutations(route.honestJson))) {
      tried++;
      const check = await (reader === "sdk" ? sdkCheck : edgeCheck)(route, m, t);
      if (check.refused) refused++;
      if (check.reached) reached++;
      const verdict =
        check.verdict ??
        (check.reached && !check.refused && verifiedBytes(m)
          ? "a changed byte of what the reader verifies went unnoticed"
          : null);
      if (verdict) failures.push(`${route.name} (${reader} ${t}) ${m.path} ${m.kind}: ${verdict}`);
    }
  }
  return { tried, refused, reached, failures };
}

/**
 * A certificate served for a height the reader has verified is checked all
 * the same (it was not, once: the edge then served and cached a forged one
 * for good); the test below plays that case on every route.
 */
const isCertificateBytes = (m: LeafMutation) => m.path.endsWith("certificateBytes");

/** A flipped digit of bytes a reader checks (an encoding or a proof): it must be refused. */
const verifiedBytes = (m: LeafMutation) =>
  /(Bytes|^proof)$/.test(m.path) && m.kind.startsWith("flip-hex");

describe("a lying upstream changes one field of one answer", () => {
  for (const reader of ["sdk", "edge"] as const)
    for (const t of ["cold", "warm"] as const)
      it(`${reader}, ${t}: refused or honest, never forged, never cached`, async () => {
        const { tried, refused, reached, failures } = await walkRoutes(reader, t);
        expect(failures.join("\n")).toBe("");
        // Not a walk past a cache: the changed answers reached the reader.
        expect(tried).toBeGreaterThan(50);
        expect(reached).toBeGreaterThan(tried * 0.8);
        expect(refused).toBeGreaterThan(tried / 10);
      });

  it("edge, warm: a forged certificate for a height it verified is neither served nor cached", async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.name !== "header" && r.name !== "genesis"))
      for (const m of leafMutations(route.honestJson).filter(
        (x) => isCertificateBytes(x) && x.kind.startsWith("flip-hex"),
      )) {
        const { verdict } = await edgeCheck(route, m, "warm");
        if (verdict) failures.push(`${route.name} ${m.path} ${m.kind}: ${verdict}`);
      }
    expect(failures.join("\n")).toBe("");
  });
});
