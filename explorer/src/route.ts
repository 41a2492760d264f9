/**
 * Where the explorer is: its pages as values, read from and written to the
 * URL's fragment (`#/block/12`), so any page can be linked and reloaded and
 * the server never sees which one (the fragment is not sent). Pure: no DOM.
 * Also what a search box query names (a height, a hash, an address).
 */

export type Route =
  | { readonly page: "home" }
  /** A block by height or by hash (lowercase hex). */
  | { readonly page: "block"; readonly height: number }
  | { readonly page: "block"; readonly hash: string }
  | { readonly page: "tx"; readonly hash: string }
  | { readonly page: "account"; readonly address: string }
  /** The set that signed the latest block (no height), or the one that signed `height`. */
  | { readonly page: "validators"; readonly height?: number }
  /** A 64-hex query: a transaction's hash or a block's, found out by asking. */
  | { readonly page: "search"; readonly query: string }
  | { readonly page: "not-found"; readonly fragment: string };

const HASH = /^[0-9a-f]{64}$/;
const HEIGHT = /^[0-9]{1,15}$/;
/** bech32m with the `el` prefix (the SDK's parseAddress has the final word). */
const ADDRESS = /^el1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,87}$/;

function heightOf(text: string): number | null {
  if (!HEIGHT.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** The page a fragment (`location.hash`, with or without `#`) names. */
export function parseRoute(fragment: string): Route {
  const path = fragment.replace(/^#/, "").replace(/^\/+/, "").replace(/\/+$/, "");
  if (path === "") return { page: "home" };
  const [kind, arg, ...rest] = path.split("/");
  const value = decodeURIComponent(arg ?? "");
  if (rest.length === 0) {
    if (kind === "block") {
      const height = heightOf(value);
      if (height !== null) return { page: "block", height };
      if (HASH.test(value.toLowerCase())) return { page: "block", hash: value.toLowerCase() };
    }
    if (kind === "tx" && HASH.test(value.toLowerCase()))
      return { page: "tx", hash: value.toLowerCase() };
    if (kind === "account" && ADDRESS.test(value.toLowerCase()))
      return { page: "account", address: value.toLowerCase() };
    if (kind === "validators") {
      if (arg === undefined) return { page: "validators" };
      const height = heightOf(value);
      if (height !== null && height > 0) return { page: "validators", height };
    }
    if (kind === "search" && value !== "") return searchRoute(value);
  }
  return { page: "not-found", fragment: path.slice(0, 200) };
}

/** The fragment (with `#`) of a route: parseRoute(hrefOf(r)) is r. */
export function hrefOf(route: Route): string {
  switch (route.page) {
    case "home":
      return "#/";
    case "block":
      return "height" in route ? `#/block/${route.height}` : `#/block/${route.hash}`;
    case "tx":
      return `#/tx/${route.hash}`;
    case "account":
      return `#/account/${route.address}`;
    case "validators":
      return route.height === undefined ? "#/validators" : `#/validators/${route.height}`;
    case "search":
      return `#/search/${encodeURIComponent(route.query)}`;
    case "not-found":
      return `#/${route.fragment}`;
  }
}

/**
 * What a search names: digits are a height, 64 hex digits a block or
 * transaction hash (the search page asks for both), `el1…` an address.
 * Anything else is not found (never guessed at).
 */
export function searchRoute(query: string): Route {
  const q = query.trim();
  const lower = q.toLowerCase();
  const height = heightOf(q);
  if (height !== null) return { page: "block", height };
  if (HASH.test(lower.replace(/^0x/, "")))
    return { page: "search", query: lower.replace(/^0x/, "") };
  if (ADDRESS.test(lower)) return { page: "account", address: lower };
  return { page: "not-found", fragment: `search/${encodeURIComponent(q.slice(0, 100))}` };
}
