/**
 * The node's read routes, as a table: for each, how a request becomes a
 * read plan (its checks, the height it resolves to, its cache key, its
 * upstream path, how the answer verifies and is kept). One loop binds them
 * all to the read pipeline, so a route differs from another only in its
 * row. Building a plan is pure but for asking the head tracker for the
 * verified head, which a test passes as a fake.
 */
import {
  fieldInvalid,
  parseHeight,
  pathOf,
  type RouteName,
  routes,
  type StatusJson,
} from "@edgeledger/sdk/api";
import { ApiError } from "@edgeledger/sdk/protocol";
import type { Hono } from "hono";
import { EdgeError } from "../errors.ts";
import type { ServeRead } from "../read/pipeline.ts";
import type { ReadPlan } from "../read/plan.ts";
import type { HeadTracker } from "../upstream/head.ts";
import { EDGE_VERSION } from "../version.ts";
import {
  BLOCK_ID_PATTERN,
  canonicalAddress,
  HEIGHT_PATTERN,
  heightQuery,
  noQuery,
  type ReadRequest,
  TX_HASH_PATTERN,
} from "./checks.ts";

/** What the plans need to know besides the request. */
export interface ReadContext {
  readonly head: Pick<HeadTracker, "head" | "fresh" | "current">;
  readonly chainId: string;
  /** The pinned genesis, or undefined when the edge trusts a checkpoint. */
  readonly genesisHash: string | undefined;
  /** How long an account answer fetched for "latest" stays in the cache (s). */
  readonly latestTtlSeconds: number;
  /** `Cache-Control: max-age` of "latest" answers (s); a status is kept as long. */
  readonly latestMaxAgeSeconds: number;
}

export type ReadRouteName =
  | "getAccount"
  | "getBlock"
  | "getHeader"
  | "getTransaction"
  | "getValidators"
  | "getGenesis"
  | "getStatus";

type PlanOf = (req: ReadRequest, ctx: ReadContext) => ReadPlan | Promise<ReadPlan>;

/** The verified head now: the one in hand if it needs no check, else a checked one. */
const currentHead = async (ctx: ReadContext) => ctx.head.fresh() ?? (await ctx.head.current());

/** A 404 for a height the edge has seen means the upstream lags behind it. */
const seen = (ctx: Pick<ReadContext, "head">, height: number) =>
  height <= (ctx.head.head?.height ?? -1);

/**
 * The certified header at `height`: the header and certificate as the light
 * client checked them, rendered again (GET /v1/headers/:height, and each
 * event of the heads stream, routes/heads.ts).
 */
export function headerPlan(height: number, ctx: Pick<ReadContext, "head">): ReadPlan {
  return {
    route: "getHeader",
    key: `header/${height}`,
    path: pathOf("getHeader", { height }),
    verify: (v, json) => v.header(json, height),
    latest: false,
    notFoundMeansLagging: seen(ctx, height),
  };
}

export const readPlans: Readonly<Record<ReadRouteName, PlanOf>> = {
  async getAccount(req, ctx) {
    const address = canonicalAddress(req.param("address"));
    const asked = heightQuery(req);
    const height = asked ?? (await currentHead(ctx)).height;
    return {
      route: "getAccount",
      key: `account/${address}/${height}`,
      path: `${pathOf("getAccount", { address })}?height=${height}`,
      verify: (v, json) => v.account(json, address, height),
      latest: asked === undefined,
      // Fetched for "latest", the entry is mostly of use while this is the
      // head: kept briefly (asked by height, the same state is kept for good).
      ...(asked === undefined && { policy: { ttlSeconds: ctx.latestTtlSeconds } }),
      notFoundMeansLagging: seen(ctx, height),
    };
  },

  async getBlock(req, ctx) {
    const id = req.param("id");
    noQuery(req);
    if (!BLOCK_ID_PATTERN.test(id))
      throw fieldInvalid(
        "params",
        "id",
        "must be `latest`, a decimal height or a block hash (64 lowercase hex)",
      );
    if (id.length === 64)
      return {
        route: "getBlock",
        key: `block/${id}`,
        path: pathOf("getBlock", { id }),
        verify: (v, json) => v.block(json, { hash: id }),
        latest: false,
        notFoundMeansLagging: false,
      };
    const latest = id === "latest";
    const height = latest ? (await currentHead(ctx)).height : parseHeight(id, "params", "id");
    return {
      route: "getBlock",
      key: `block/${height}`,
      path: pathOf("getBlock", { id: height }),
      verify: (v, json) => v.block(json, { height }),
      latest,
      notFoundMeansLagging: seen(ctx, height),
    };
  },

  getHeader(req, ctx) {
    noQuery(req);
    const text = req.param("height");
    if (!HEIGHT_PATTERN.test(text))
      throw fieldInvalid("params", "height", "must be a decimal height");
    return headerPlan(parseHeight(text, "params", "height"), ctx);
  },

  getTransaction(req) {
    noQuery(req);
    const hash = req.param("hash");
    if (!TX_HASH_PATTERN.test(hash))
      throw fieldInvalid("params", "hash", "must be 32 bytes of lowercase hex");
    return {
      route: "getTransaction",
      key: `tx/${hash}`,
      path: pathOf("getTransaction", { hash }),
      verify: (v, json) => v.transaction(json, hash),
      latest: false,
      notFoundMeansLagging: false,
    };
  },

  async getValidators(req, ctx) {
    const asked = heightQuery(req);
    const current = await currentHead(ctx);
    // The set signing the next block is named by the head; a later one
    // cannot be verified from headers yet.
    const height = asked ?? current.height + 1;
    if (height > current.height + 1)
      throw new ApiError(
        "HEIGHT_NOT_AVAILABLE",
        `The validator set of height ${height} cannot be verified yet (this edge has verified up to height ${current.height}).`,
        { details: { height, latest: current.height } },
      );
    return {
      route: "getValidators",
      key: `validators/${height}`,
      path: `${routes.getValidators.path}?height=${height}`,
      verify: (v, json) => v.validators(json, height),
      latest: asked === undefined,
      notFoundMeansLagging: true,
    };
  },

  getGenesis(req, ctx) {
    noQuery(req);
    if (ctx.genesisHash === undefined)
      throw new EdgeError(
        "EDGE_NOT_VERIFIABLE",
        "This edge trusts a checkpoint, not a genesis hash, so it cannot vouch for a genesis; ask a node you trust.",
      );
    return {
      route: "getGenesis",
      key: "genesis",
      path: routes.getGenesis.path,
      verify: (v, json) => v.genesis(json),
      latest: false,
      notFoundMeansLagging: false,
    };
  },

  async getStatus(req, ctx) {
    noQuery(req);
    const current = await currentHead(ctx);
    return {
      route: "getStatus",
      key: `status/${current.height}`,
      path: routes.getStatus.path,
      // The edge's own view: its verified head, and the upstream's mempool
      // (informational, as a status always is; the SDK verifies none of it).
      verify: async (_v, json, i) => {
        const s = json as StatusJson;
        if (
          s.chainId !== ctx.chainId ||
          (ctx.genesisHash !== undefined && s.genesisHash !== ctx.genesisHash)
        )
          throw new EdgeError("EDGE_UNVERIFIED", `Upstream ${i} serves another chain.`);
        const status: StatusJson = {
          chainId: ctx.chainId,
          nodeVersion: `edgeledger-edge/${EDGE_VERSION}`,
          genesisHash: s.genesisHash,
          height: current.height,
          latestHash: current.hash,
          latestTime: current.time,
          validator: null,
          mempool: { size: s.mempool.size, bytes: s.mempool.bytes },
          // The upstream's word, like the mempool: what a node holds, not what a certificate says.
          protocolVersion: s.protocolVersion,
          upgrades: s.upgrades,
        };
        return {
          json: status,
          // Weak: two edges at one height may show different mempools.
          etag: `W/"${current.hash}"`,
          height: current.height,
          final: true,
        };
      },
      latest: true,
      policy: { ttlSeconds: ctx.latestMaxAgeSeconds },
      notFoundMeansLagging: false,
      unverified: ["mempool", "protocolVersion", "upgrades"],
    };
  },
};

/** The read routes' paths, for the app's list of what it serves. */
export const READ_PATHS: readonly string[] = Object.keys(readPlans).map(
  (name) => routes[name as RouteName].path,
);

/** Binds every read route of the table to the pipeline. */
export function registerReads(app: Hono, ctx: ReadContext, serve: ServeRead): void {
  for (const [name, planOf] of Object.entries(readPlans) as [ReadRouteName, PlanOf][])
    app.get(routes[name].path, async (c) => {
      const req: ReadRequest = {
        param: (field) => c.req.param(field) ?? "",
        queries: () => c.req.queries(),
      };
      return serve(c, await planOf(req, ctx));
    });
}
