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
  subscribeHeads: "/v1/heads",
  getMetrics: "/metrics",
} as const;
