/**
 * The API's paths, for clients. The route table (routes.ts) builds every
 * route on these, so a path is still written once; a client that needs only
 * paths imports this file and leaves the table's JSON schemas, which only
 * servers use, out of its bundle (about 11 kB minified, 15% of a minimal
 * browser app).
 */
export const paths = {
  submitTransaction: "/v1/transactions",
  submitTransactions: "/v1/transactions/batch",
  getTransaction: "/v1/transactions/:hash",
  getAccount: "/v1/accounts/:address",
  getBlock: "/v1/blocks/:id",
  getHeader: "/v1/headers/:height",
  getGenesis: "/v1/genesis",
  getValidators: "/v1/validators",
  devTransfer: "/v1/dev/transfer",
  getStatus: "/v1/status",
  getNodeHealth: "/v1/health",
  subscribeHeads: "/v1/heads",
  getMetrics: "/metrics",
} as const;

export type PathName = keyof typeof paths;

/** The `:name` parameters of a path pattern, as a record type. */
type ParamsOf<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? { readonly [K in Name]: string | number } & ParamsOf<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? { readonly [K in Name]: string | number }
    : Record<never, never>;

/**
 * A route's path with its parameters filled in, each percent-encoded (the
 * one place paths are filled: `pathOf("getHeader", { height: 7 })` is
 * "/v1/headers/7"). The parameters a route needs are checked by the type.
 */
export function pathOf<N extends PathName>(name: N, params: ParamsOf<(typeof paths)[N]>): string {
  const values = params as Readonly<Record<string, string | number>>;
  return paths[name].replace(/:([A-Za-z]+)/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new TypeError(`pathOf("${name}"): no value for :${key}.`);
    return encodeURIComponent(String(value));
  });
}
