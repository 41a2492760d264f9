/**
 * @edgeledger/edge: a Hono app that serves the node's read API with every
 * answer verified before it is cached or served, and forwards transaction
 * submissions. Runtime-neutral (Web-standard Request/Response); the runtime
 * entries are `@edgeledger/edge/node` (a Node server) and
 * `src/adapters/workers.ts` (Cloudflare Workers).
 */
export { createEdgeApp, type EdgeApp, type EdgeController } from "./app.ts";
export { type CacheLike, type WorkersCacheOptions, workersCache } from "./cache/cacheApi.ts";
export { KV_MIN_TTL_SECONDS, type KvLike, kvCache } from "./cache/kv.ts";
export {
  defaultMemoryCacheOptions,
  type MemoryCache,
  type MemoryCacheOptions,
  memoryCache,
} from "./cache/memory.ts";
export type { CachedAnswer, CachePolicy, CacheStore, StoredAnswer } from "./cache/store.ts";
export { tieredCache } from "./cache/tiered.ts";
export { EdgeError, type EdgeErrorCode, toHttpError } from "./errors.ts";
export { EdgeMetrics, type MetricName } from "./metrics.ts";
export { defaultEdgeOptions, type EdgeOptions } from "./options.ts";
export { defaultRateLimit, type RateLimitOptions } from "./rateLimit.ts";
export { etagMatches } from "./read/render.ts";
export {
  defaultHeadStreamOptions,
  type HeadStreamOptions,
  type HeadStreams,
} from "./routes/heads.ts";
export type { Head, HeadMode } from "./upstream/head.ts";
export {
  DEFAULT_READY_MAX_HEAD_AGE_MS,
  type EdgeHealthJson,
  type EdgeReadiness,
  edgeReadiness,
} from "./upstream/readiness.ts";
export type { AnswerVerifier, Verified } from "./upstream/verify.ts";
export { EDGE_VERSION } from "./version.ts";
