/**
 * Serving the explorer, on any runtime: `explorerAnswer(pathname, config)`
 * is the answer for a path under /explorer (the built files of
 * dist/assets.js, see build.ts), with the serving edge's or node's chain id
 * and trust anchor written into the page, or null for any other path. The
 * edge (Hono, on Node and Workers) and the node (fastify, behind its
 * `api.explorer` flag) bind it in a few lines each.
 */
import type { TrustAnchor } from "@edgeledger/sdk";
import { files } from "../dist/assets.js";

export const EXPLORER_PATH = "/explorer";

/** What the page is told about the server that serves it (trust.ts reads it back). */
export interface ExplorerConfig {
  readonly chainId: string;
  readonly trust: TrustAnchor;
  /** It serves GET /v1/heads (a node, an edge), or the page polls for heads. */
  readonly headStream: boolean;
}

export interface ExplorerAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * The page may load only its own script and style and call only its own
 * origin's API; the config block is JSON (type application/json), never run.
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
} as const;

/** JSON safe inside a <script> element: no `<` can close it. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/** The answer for `pathname`, or null when it is not the explorer's. */
export function explorerAnswer(pathname: string, config: ExplorerConfig): ExplorerAnswer | null {
  if (pathname === EXPLORER_PATH)
    return { status: 308, headers: { location: `${EXPLORER_PATH}/` }, body: "" };
  if (!pathname.startsWith(`${EXPLORER_PATH}/`)) return null;
  const name = pathname.slice(EXPLORER_PATH.length + 1) || "index.html";
  const file = Object.hasOwn(files, name) ? files[name] : undefined;
  if (!file) return null;
  const body =
    name === "index.html"
      ? file.body.replace('"__EXPLORER_CONFIG__"', () =>
          scriptJson({
            chainId: config.chainId,
            trust: config.trust,
            headStream: config.headStream,
          }),
        )
      : file.body;
  return {
    status: 200,
    headers: { "content-type": file.type, "cache-control": "no-cache", ...SECURITY_HEADERS },
    body,
  };
}
