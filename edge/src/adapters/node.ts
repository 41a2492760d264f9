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

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ApiError } from "@edgeledger/sdk";
import {
  connectAnswer,
  parserErrorAnswer,
  rawHttpAnswer,
  requestTargetError,
} from "@edgeledger/sdk/api";
import { lingerOnClose } from "@edgeledger/sdk/node";
import { getRequestListener } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createEdgeApp, type EdgeApp } from "../app.ts";
import { errorResponse } from "../http/respond.ts";
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

/**
 * A node:http server that answers in the API's error shape what would
 * otherwise get a bare 400 or no answer: bytes the parser refuses
 * (clientError), CONNECT, a request without Host, and a raw target the
 * URL parser would silently rewrite (dot segments), all by the node's rules.
 */
function guardedServer(
  listener: (req: IncomingMessage, res: ServerResponse) => Promise<unknown>,
): Server {
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    const problem = rawRequestError(req);
    if (!problem) return void listener(req, res);
    void sendResponse(res, errorResponse(problem));
  });
  server.on("clientError", (error: Error & { code?: string }, socket: Socket) => {
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    if (socket.writable) socket.end(rawHttpAnswer(parserErrorAnswer(error.code)));
    else socket.destroy(error);
  });
  // An answer given before the body is read (a 413) must reach the client (see lingerOnClose).
  lingerOnClose(server);
  server.on("connect", (_req: IncomingMessage, socket: Socket) => {
    if (socket.writable) socket.end(rawHttpAnswer(connectAnswer()));
    else socket.destroy();
  });
  return server;
}

function rawRequestError(req: IncomingMessage): ApiError | null {
  const problem = requestTargetError(req.url ?? "");
  if (problem) return problem;
  if (req.httpVersion === "1.1" && req.headers.host === undefined)
    return new ApiError("REQUEST_INVALID", "An HTTP/1.1 request needs a Host header.", {
      details: { in: "headers", field: "host" },
    });
  return null;
}

async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  const body = await response.text();
  res.writeHead(response.status, {
    ...Object.fromEntries(response.headers),
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

export async function startEdgeServer(options: EdgeServerOptions): Promise<EdgeServer> {
  const app = createEdgeApp({
    headMode: "stream",
    clientAddress: (c) => getConnInfo(c).remote.address,
    ...options,
  });
  const hostname = options.hostname ?? defaultEdgeServerOptions.hostname;
  const server = await new Promise<Server>((resolve, reject) => {
    const s = guardedServer(getRequestListener(app.fetch, { hostname }));
    s.once("error", reject);
    s.listen(options.port ?? defaultEdgeServerOptions.port, hostname, () => resolve(s));
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
