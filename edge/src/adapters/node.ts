/**
 * The Node entry: an edge app on a port (@hono/node-server), following the
 * upstream head stream (a Node process may hold long connections), with
 * the socket address as the rate-limit key of last resort. Binds only:
 * everything else is createEdgeApp's.
 *
 *   const edge = await startEdgeServer({ upstreams, chainId, trust, port: 8600 });
 *   console.log(edge.url);
 *   await edge.close();
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createEdgeApp, type EdgeApp } from "../app.ts";
import type { EdgeOptions } from "../options.ts";

export interface EdgeServerOptions extends EdgeOptions {
  /** Default 8600; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1; "0.0.0.0" serves every interface. */
  readonly hostname?: string;
}

export const defaultEdgeServerOptions = { port: 8600, hostname: "127.0.0.1" } as const;

export interface EdgeServer {
  /** Where it serves, e.g. http://127.0.0.1:8600. */
  readonly url: string;
  readonly app: EdgeApp;
  /** Stops following heads and closes the server and its connections. */
  close(): Promise<void>;
}

export async function startEdgeServer(options: EdgeServerOptions): Promise<EdgeServer> {
  const app = createEdgeApp({
    headMode: "stream",
    clientAddress: (c) => getConnInfo(c).remote.address,
    ...options,
  });
  const hostname = options.hostname ?? defaultEdgeServerOptions.hostname;
  const server = await new Promise<Server>((resolve, reject) => {
    // @hono/node-server makes a node:http server unless told otherwise.
    const s = serve(
      { fetch: app.fetch, port: options.port ?? defaultEdgeServerOptions.port, hostname },
      () => resolve(s as Server),
    ) as Server;
    s.once("error", reject);
  });
  app.edge.start();
  const { port } = server.address() as AddressInfo;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    app,
    close: async () => {
      app.edge.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections would hold close() open until they idle out.
      server.closeAllConnections();
      await closed;
    },
  };
}
