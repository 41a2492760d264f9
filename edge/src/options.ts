/**
 * The edge's options and their defaults, in one place, and their
 * resolution: upstream URLs checked and normalized, defaults filled in, and
 * what follows from the trust anchor (the pinned genesis, the cache
 * namespace).
 */
import type { TrustAnchor } from "@edgeledger/sdk";
import type { SignatureVerifier } from "@edgeledger/sdk/protocol";
import type { Context } from "hono";
import type { CacheStore } from "./cache/store.ts";
import { EdgeError } from "./errors.ts";
import type { RateLimitOptions } from "./rateLimit.ts";
import type { HeadStreamOptions } from "./routes/heads.ts";
import type { HeadMode } from "./upstream/head.ts";
import { DEFAULT_READY_MAX_HEAD_AGE_MS } from "./upstream/readiness.ts";
import type { AnswerVerifier } from "./upstream/verify.ts";

export interface EdgeOptions {
  /** Base URLs of the nodes (or other edges) to read from and write to; failover in this order. */
  readonly upstreams: readonly string[];
  /** The chain served; answers from any other chain fail verification. */
  readonly chainId: string;
  /** Where verification starts: a genesis (or checkpoint) hash from a source you trust. */
  readonly trust: TrustAnchor;
  /** Where verified answers are kept. Default: memoryCache() (64 MiB). */
  readonly cache?: CacheStore;
  /** Per-client limits on /v1 requests, or false for none. Default: defaultRateLimit. */
  readonly rateLimit?: RateLimitOptions | false;
  /**
   * How new heads are learned: "stream" follows an upstream's head stream
   * once `edge.start()` is called (long-lived processes: Node, Bun, Deno);
   * "poll" checks on demand (Workers). Default "poll".
   */
  readonly headMode?: HeadMode;
  /** Poll mode: the longest a head is used before it is checked again (ms). Default 1000. */
  readonly headPollMs?: number;
  /** `Cache-Control: max-age` of answers to "latest" reads (s). Default 1. */
  readonly latestMaxAgeSeconds?: number;
  /** How long an account answer fetched for "latest" stays in the cache (s). Default 60. */
  readonly latestTtlSeconds?: number;
  /** Each upstream request's deadline (ms). Default 5000. */
  readonly upstreamTimeoutMs?: number;
  /** The connection's address (from the runtime adapter), for rate limits when no header names the client. */
  readonly clientAddress?: (c: Context) => string | undefined;
  /** The fetch used for upstreams. Default: globalThis.fetch. */
  readonly fetch?: typeof fetch;
  /** The Ed25519 verifier of the light clients. Default: the SDK's (WebCrypto, else noble). */
  readonly verifier?: SignatureVerifier;
  /** Replaces the SDK verifiers (tests). */
  readonly verifierFor?: (upstream: number, url: string) => AnswerVerifier;
  /** Told of every error answered as INTERNAL. Default: console.error. */
  readonly onInternalError?: (error: unknown) => void;
  readonly now?: () => number;
  /** Serve the explorer web app at /explorer (routes/explorer.ts). Default true. */
  readonly explorer?: boolean;
  /**
   * GET /health answers 503 once the verified head is older than this (ms):
   * the edge is not following the chain (upstream/readiness.ts). Default
   * 120 000, two of the chain's default heartbeats.
   */
  readonly readyMaxHeadAgeMs?: number;
  /**
   * GET /v1/heads, the verified heads as Server-Sent Events
   * (routes/heads.ts), with its bounds; false: not served (404, and the
   * explorer polls). Default: served with defaultHeadStreamOptions.
   */
  readonly headStream?: HeadStreamOptions | false;
}

export const defaultEdgeOptions = {
  explorer: true,
  headMode: "poll",
  headPollMs: 1000,
  latestMaxAgeSeconds: 1,
  latestTtlSeconds: 60,
  readyMaxHeadAgeMs: DEFAULT_READY_MAX_HEAD_AGE_MS,
  upstreamTimeoutMs: 5000,
} as const;

/** The options as the app uses them: checked, defaults filled in, and what follows from them. */
export type ResolvedEdgeOptions = EdgeOptions &
  Required<Pick<EdgeOptions, keyof typeof defaultEdgeOptions>> & {
    /** The upstream base URLs, without trailing slashes. */
    readonly upstreams: readonly string[];
    readonly now: () => number;
    /** The pinned genesis (lowercase hex), or undefined when trust is a checkpoint. */
    readonly genesisHash: string | undefined;
    /**
     * Prefixed to every cache key: the chain and the anchor, so stores shared
     * with other edges (a zone's Cache API, a KV namespace) never mix two
     * chains' answers.
     */
    readonly cacheNamespace: string;
    readonly onInternalError: (error: unknown) => void;
  };

/** Checks the options (EDGE_CONFIG_INVALID names the one at fault) and fills in the defaults. */
export function resolveEdgeOptions(options: EdgeOptions): ResolvedEdgeOptions {
  if (options.upstreams.length === 0)
    throw new EdgeError("EDGE_CONFIG_INVALID", "Give at least one upstream URL.");
  const upstreams = options.upstreams.map((u) => u.replace(/\/+$/, ""));
  for (const u of upstreams)
    if (!/^https?:\/\/[^/]/.test(u))
      throw new EdgeError("EDGE_CONFIG_INVALID", `Upstream "${u}" is not an http(s) URL.`, {
        details: { upstream: u },
      });
  const genesisHash =
    "genesisHash" in options.trust ? options.trust.genesisHash.toLowerCase() : undefined;
  const anchor =
    genesisHash ?? `${"checkpoint" in options.trust ? options.trust.checkpoint.hash : ""}`;
  return {
    ...defaultEdgeOptions,
    ...definedOnly(options),
    chainId: options.chainId,
    trust: options.trust,
    upstreams,
    now: options.now ?? Date.now,
    genesisHash,
    cacheNamespace: `${options.chainId}/${anchor.slice(0, 16)}/`,
    onInternalError: options.onInternalError ?? ((err: unknown) => console.error("edge:", err)),
  };
}

/** Options without the keys set to undefined, so they do not override defaults when spread. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
