/**
 * The edge's options and their defaults, in one place.
 */
import type { TrustAnchor } from "@edgeledger/sdk";
import type { SignatureVerifier } from "@edgeledger/sdk/protocol";
import type { Context } from "hono";
import type { CacheStore } from "./cache/store.ts";
import type { RateLimitOptions } from "./rateLimit.ts";
import type { HeadMode } from "./upstream/head.ts";
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
}

export const defaultEdgeOptions = {
  headMode: "poll",
  headPollMs: 1000,
  latestMaxAgeSeconds: 1,
  latestTtlSeconds: 60,
  upstreamTimeoutMs: 5000,
} as const;
