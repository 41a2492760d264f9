/**
 * The explorer web app (@edgeledger/explorer) at /explorer: its built files,
 * with this edge's chain id and trust anchor written into the page. The page
 * verifies every answer again in the browser, from that anchor or from the
 * reader's own pin (explorer/src/trust.ts); nothing here is cached or
 * verified, these are static files. Bound on Node and Workers alike: the
 * files are a module in the bundle, no asset binding is needed.
 */
import { EXPLORER_PATH, type ExplorerConfig, explorerAnswer } from "@edgeledger/explorer";
import type { Hono } from "hono";
import { respond } from "../http/respond.ts";

export function registerExplorer(app: Hono, config: ExplorerConfig): void {
  const serve = (pathname: string) => {
    const answer = explorerAnswer(pathname, config);
    return answer ? respond(answer.status, answer.body, { ...answer.headers }) : null;
  };
  app.get(EXPLORER_PATH, (c) => serve(new URL(c.req.url).pathname)!);
  app.get(`${EXPLORER_PATH}/*`, (c, next) => serve(new URL(c.req.url).pathname) ?? next());
}
