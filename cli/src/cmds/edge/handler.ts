/**
 * `edgeledger edge`: an edge worker (@edgeledger/edge on Node) in a
 * process, until SIGINT or SIGTERM.
 */
import { untilSignal } from "../../util/untilSignal.ts";
import type { EdgeArgs } from "./options.ts";

/**
 * `edgeledger edge`: an edge worker (@edgeledger/edge on Node) in front of
 * `upstreams` until SIGINT or SIGTERM: verified, cached reads of the node
 * API and forwarded submissions.
 */
export async function edgeHandler(opts: EdgeArgs): Promise<void> {
  // Loaded here: the other commands need none of the edge.
  const { memoryCache } = await import("@edgeledger/edge");
  const { startEdgeServer } = await import("@edgeledger/edge/node");
  const server = await startEdgeServer({
    upstreams: opts.upstreams,
    chainId: opts.chainId,
    trust: { genesisHash: opts.genesisHash },
    hostname: opts.host,
    port: opts.port,
    cache: memoryCache({ maxBytes: opts.cacheMb * 1024 * 1024 }),
    readyMaxHeadAgeMs: Math.max(1, opts.readyMaxHeadAge) * 1000,
    rateLimit:
      opts.rateLimit === 0
        ? false
        : {
            ratePerSecond: opts.rateLimit,
            burst: Math.max(1, opts.rateLimitBurst),
            trustProxyHeaders: opts.trustProxyHeaders,
          },
  });
  console.log(
    `edgeledger edge (pid ${process.pid}) for chain "${opts.chainId}" on ${server.url}, in front of ${opts.upstreams.join(", ")}`,
  );
  // Said at start-up, so that an operator behind a proxy sees whether clients are told apart.
  console.log(
    server.app.edge.rateLimitKey === null
      ? "rate limit: none"
      : `rate limit: ${opts.rateLimit}/s, burst ${Math.max(1, opts.rateLimitBurst)}, per client by ${server.app.edge.rateLimitKey}`,
  );
  await untilSignal();
  await server.close();
  console.log(`edgeledger edge (pid ${process.pid}) stopped`);
}
