/**
 * What a read route hands the read pipeline: how one GET is served (where
 * it lives in the cache, where upstream, how it verifies), and what the
 * pipeline makes of the upstreams' answers.
 */
import type { ErrorJson, RouteName } from "@edgeledger/sdk/api";
import type { CachedAnswer, CachePolicy } from "../cache/store.ts";
import type { AnswerVerifier, Verified } from "../upstream/verify.ts";

export interface ReadPlan {
  readonly route: RouteName;
  readonly key: string;
  /** The upstream path and query. */
  readonly path: string;
  readonly verify: (verifier: AnswerVerifier, json: unknown, upstream: number) => Promise<Verified>;
  /** Served for "latest": a short max-age whatever the storage. */
  readonly latest: boolean;
  /** How a verified final answer is stored. Default immutable. */
  readonly policy?: CachePolicy;
  /** A 404 from an upstream means it lags behind the edge: ask the next. */
  readonly notFoundMeansLagging: boolean;
  /** Fields every answer of the route serves unverified (see Verified.unverified). */
  readonly unverified?: readonly string[];
}

export type Outcome =
  | {
      readonly kind: "answer";
      readonly answer: CachedAnswer;
      /** How to store it; null: not final (or untagged), never cached. */
      readonly policy: CachePolicy | null;
      readonly unverified?: readonly string[];
    }
  | { readonly kind: "refusal"; readonly status: number; readonly error: ErrorJson };
