/**
 * The checks a read's path and query pass before anything is fetched, as
 * the node's schemas check them (patterns and bounds from the SDK's route
 * table, the same messages and details), so a client sees one answer to a
 * bad request whether it asks a node or an edge. Pure: a request is its
 * path parameters and its query, as `ReadRequest`.
 */
import { fieldInvalid, parseHeight, routes } from "@edgeledger/sdk/api";
import { ApiError, formatAddress, parseAddress } from "@edgeledger/sdk/protocol";

/** What a read route looks at in a request (Hono's, or a test's). */
export interface ReadRequest {
  /** A path parameter of the route. */
  param(name: string): string;
  /** Every query field with all its values, in the order given. */
  queries(): Record<string, string[]>;
}

/** The route table's patterns, so a path parameter is checked as the node checks it. */
export const HEIGHT_PATTERN = new RegExp(routes.getHeader.params.properties.height.pattern);
export const BLOCK_ID_PATTERN = new RegExp(routes.getBlock.params.properties.id.pattern);
export const TX_HASH_PATTERN = new RegExp(routes.getTransaction.params.properties.hash.pattern);
const MAX_ADDRESS_LENGTH = routes.getAccount.params.properties.address.maxLength;

/**
 * The optional `height` query of a route; any other query field is refused,
 * and so is a field given twice (the node's schema sees an array there, not
 * a string: taking the first or last one would answer another question).
 */
export function heightQuery(req: ReadRequest): number | undefined {
  const query = req.queries();
  for (const name of Object.keys(query))
    if (name !== "height")
      throw new ApiError("REQUEST_INVALID", `querystring has an unknown field "${name}".`, {
        details: { in: "querystring", field: name },
      });
  const values = query["height"];
  if (values !== undefined && values.length > 1)
    throw fieldInvalid("querystring", "height", "must be string");
  const text = values?.[0];
  if (text === undefined) return undefined;
  if (!HEIGHT_PATTERN.test(text))
    throw fieldInvalid("querystring", "height", "must be a decimal height");
  return parseHeight(text, "querystring", "height");
}

/** Routes without a query refuse any field. */
export function noQuery(req: ReadRequest): void {
  for (const name of Object.keys(req.queries()))
    throw new ApiError("REQUEST_INVALID", `querystring has an unknown field "${name}".`, {
      details: { in: "querystring", field: name },
    });
}

/**
 * An address as the API spells it (bech32m, lowercase), remembered for the
 * addresses asked about most: decoding and encoding bech32 on every hit
 * showed in profiles. An invalid address throws its AddressError each time.
 */
const CANONICAL = new Map<string, string>();
const MAX_CANONICAL = 10_000;
export function canonicalAddress(text: string): string {
  // The route table's bound, checked as the node's schema checks it.
  if (text.length > MAX_ADDRESS_LENGTH)
    throw fieldInvalid(
      "params",
      "address",
      `must NOT have more than ${MAX_ADDRESS_LENGTH} characters`,
    );
  let canonical = CANONICAL.get(text);
  if (canonical === undefined) {
    canonical = formatAddress(parseAddress(text));
    // Bounded the simple way: starting afresh costs a few decodes.
    if (CANONICAL.size >= MAX_CANONICAL) CANONICAL.clear();
    CANONICAL.set(text, canonical);
  }
  return canonical;
}

/**
 * The `probe` query of GET /health, as the node checks its /v1/health's:
 * "live" or "ready" (the default), nothing else, no other field.
 */
export function probeQuery(req: Pick<ReadRequest, "queries">): "live" | "ready" {
  const query = req.queries();
  for (const name of Object.keys(query))
    if (name !== "probe")
      throw new ApiError("REQUEST_INVALID", `querystring has an unknown field "${name}".`, {
        details: { in: "querystring", field: name },
      });
  const values = query["probe"];
  if (values === undefined) return "ready";
  if (values.length > 1) throw fieldInvalid("querystring", "probe", "must be string");
  if (values[0] !== "live" && values[0] !== "ready")
    throw fieldInvalid("querystring", "probe", "must be equal to one of the allowed values");
  return values[0];
}
