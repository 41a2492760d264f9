/**
 * `edgeledger edge`'s options: the upstream nodes, the chain and genesis to
 * trust, where to serve, the rate limit and the cache.
 */
import { hash32, port, url, whole } from "../../options/parsers.ts";
import type { CliOptions } from "../../util/command.ts";

export interface EdgeArgs {
  /** From `--upstream`, repeatable. */
  upstreams: string[];
  chainId: string;
  genesisHash: string;
  host: string;
  port: number;
  /** Per client per second; 0: no limit. */
  rateLimit: number;
  rateLimitBurst: number;
  cacheMb: number;
  /** GET /health's bound on the verified head's age, in seconds. */
  readyMaxHeadAge: number;
  /** True: rate limits key by cf-connecting-ip / x-forwarded-for, set by a proxy in front. */
  trustProxyHeaders: boolean;
}

export const edgeOptions: CliOptions<EdgeArgs> = {
  upstreams: {
    flags: "--upstream <url...>",
    description:
      "node API URLs, tried in order with failover (several after one --upstream, or --upstream again)",
    parse: url,
    required: true,
  },
  chainId: { flags: "--chain-id <id>", description: "the chain served", required: true },
  genesisHash: {
    flags: "--genesis-hash <hex>",
    description:
      "the genesis hash to trust: from your own node or config, never from the upstreams",
    parse: hash32,
    required: true,
  },
  host: { flags: "--host <ip>", description: "address to serve on", default: "127.0.0.1" },
  port: { flags: "--port <port>", description: "port to serve on", parse: port, default: 8600 },
  rateLimit: {
    flags: "--rate-limit <n>",
    description: "requests per second per client; 0 for no limit",
    parse: whole,
    default: 50,
  },
  rateLimitBurst: {
    flags: "--rate-limit-burst <n>",
    description: "requests a client may make at once",
    parse: whole,
    default: 100,
  },
  cacheMb: {
    flags: "--cache-mb <n>",
    description: "memory for cached answers, in MiB",
    parse: whole,
    default: 64,
  },
  readyMaxHeadAge: {
    flags: "--ready-max-head-age <s>",
    description:
      "GET /health answers 503 (not ready) once the verified head is older than this, in seconds",
    parse: whole,
    default: 120,
  },
  trustProxyHeaders: {
    flags: "--trust-proxy-headers",
    description:
      "key rate limits by cf-connecting-ip, then the last x-forwarded-for hop: only behind a proxy that sets them (clients could send them themselves); default: the connection's address",
    default: false,
  },
};
