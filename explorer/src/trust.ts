/**
 * Where the explorer's trust comes from. The page is served by the same
 * edge or node whose answers it checks, with that server's configured
 * anchor (chain id and genesis hash) in it; a reader who knows the genesis
 * hash from elsewhere pins it, in the URL (`?genesis=<hex>`, remembered) or
 * from an earlier visit (localStorage), and then the pin wins over the
 * server's word. Pure: the page passes what it read from the URL and the
 * storage, and writes back what this returns.
 */
import type { TrustAnchor } from "@edgeledger/sdk";

/** What the serving edge or node wrote into the page. */
export interface ServedConfig {
  readonly chainId: string;
  readonly trust: TrustAnchor;
  /** The server streams heads (GET /v1/heads): a node does, and an edge unless its headStream is off. */
  readonly headStream?: boolean;
}

export interface ChosenTrust {
  readonly anchor: TrustAnchor;
  /** Where it came from: the server that serves the page, or the reader's own pin. */
  readonly source: "served" | "pinned";
  /** A pin that differs from what the server says it is configured with. */
  readonly conflict: boolean;
  /** What to keep in storage after this visit (null: remove). */
  readonly store: string | null;
}

export const PIN_STORAGE_KEY = "edgeledger-explorer-genesis";
const HEX32 = /^[0-9a-f]{64}$/;

function anchorHash(anchor: TrustAnchor): string {
  return ("genesisHash" in anchor ? anchor.genesisHash : anchor.checkpoint.hash).toLowerCase();
}

/**
 * The anchor to verify with: `?genesis=<hex>` pins (and is stored),
 * `?genesis=` (empty) unpins, a stored pin holds otherwise; with no pin,
 * the served one. A malformed pin is refused, not ignored: it is reported
 * as an error, since falling back to the server's word would be silent.
 */
export function chooseTrust(
  served: ServedConfig,
  query: string,
  stored: string | null,
): ChosenTrust | { readonly error: string } {
  const params = new URLSearchParams(query);
  const asked = params.has("genesis") ? params.get("genesis")!.trim().toLowerCase() : undefined;
  const pin = asked === undefined ? stored : asked === "" ? null : asked;
  if (pin === null || pin === undefined)
    return { anchor: served.trust, source: "served", conflict: false, store: null };
  if (!HEX32.test(pin))
    return { error: `The pinned genesis hash "${pin.slice(0, 80)}" is not 64 hex digits.` };
  return {
    anchor: { genesisHash: pin },
    source: "pinned",
    conflict: pin !== anchorHash(served.trust),
    store: pin,
  };
}

/** The served config, read from the page's JSON block; throws when it is missing or malformed. */
export function readServedConfig(text: string | null | undefined): ServedConfig {
  const value: unknown = JSON.parse(text ?? "null");
  const v = value as { chainId?: unknown; trust?: Record<string, unknown> } | null;
  const trust = v?.trust;
  const ok =
    typeof v?.chainId === "string" &&
    trust !== undefined &&
    (typeof trust["genesisHash"] === "string" ||
      (typeof trust["checkpoint"] === "object" && trust["checkpoint"] !== null));
  if (!ok) throw new Error("The page carries no explorer config (chainId and trust).");
  return value as ServedConfig;
}

export { anchorHash };
