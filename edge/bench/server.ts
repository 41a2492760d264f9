/**
 * One HTTP server for the edge bench, in its own process so that the load
 * generator does not share its event loop: either a bare Hono app that
 * answers the bench paths with fixed bodies, or the edge (startEdgeServer),
 * both on @hono/node-server. Prints `listening <url>` when it serves.
 * `GET /__cpu` answers this process's CPU time so far (µs), outside the app
 * measured, so the bench can tell what each request cost the server even
 * when the load generator, on the same small machine, is the bottleneck.
 *
 *   node bench/server.ts bare <bodies.json>    ({ "<path>": "<body>", ... })
 *   node bench/server.ts edge <upstream> <chainId> <genesisHash>
 */
import { readFileSync } from "node:fs";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono } from "hono";
import { createEdgeApp } from "../src/app.ts";

/** Serves `app` with the /__cpu probe in front; prints where. */
function listen(fetchApp: (request: Request, env: unknown) => Response | Promise<Response>) {
  const server = serve(
    {
      fetch: (request, env) => {
        if (request.url.endsWith("/__cpu")) {
          const { user, system } = process.cpuUsage();
          return new Response(String(user + system));
        }
        return fetchApp(request, env);
      },
      port: 0,
      hostname: "127.0.0.1",
    },
    (info) => console.log(`listening http://127.0.0.1:${info.port}`),
  );
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
  return server;
}

const [mode, ...args] = process.argv.slice(2);

if (mode === "bare") {
  const texts = JSON.parse(readFileSync(args[0]!, "utf8")) as Record<string, string>;
  // Kept as bytes, as the edge's memory cache keeps them, so that the ratio
  // measures what the edge does per request, not how a body is stored.
  const encoder = new TextEncoder();
  const bodies = Object.fromEntries(
    Object.entries(texts).map(([path, text]) => [path, encoder.encode(text)]),
  );
  const app = new Hono();
  // The handler an edge would be if it did nothing: look the answer up, send it.
  app.get("*", (c) => {
    const body = bodies[c.req.path];
    return body === undefined
      ? c.notFound()
      : c.body(body, 200, { "content-type": "application/json; charset=utf-8" });
  });
  listen((request, env) => app.fetch(request, env));
} else if (mode === "edge") {
  const [upstream, chainId, genesisHash] = args as [string, string, string];
  // As startEdgeServer builds it (stream heads, the socket address as the
  // last rate-limit key), with the /__cpu probe in front.
  const app = createEdgeApp({
    upstreams: [upstream],
    chainId,
    trust: { genesisHash },
    headMode: "stream",
    clientAddress: (c) => getConnInfo(c).remote.address,
    // On, so its cost is measured, but never in the way of one busy client.
    rateLimit: { ratePerSecond: 1e9, burst: 1e9 },
  });
  app.edge.start();
  listen((request, env) => app.fetch(request, env));
} else {
  console.error("usage: server.ts bare <bodies.json> | edge <upstream> <chainId> <genesisHash>");
  process.exit(2);
}
