/**
 * The client: createClient, the actions (also usable on their own), the
 * transport and the light client that verifies every answer.
 */
export * from "./actions/read.ts";
export * from "./actions/watch.ts";
export * from "./actions/write.ts";
export * from "./createClient.ts";
export * from "./lightClient.ts";
export * from "./transport.ts";
