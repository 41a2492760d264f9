/**
 * @edgeledger/sdk/api: the whole HTTP contract, defined once and used by the
 * node (server), the edge and the SDK (client): the routes (paths, schemas,
 * body limits), every error code's status and the one error serializer, the
 * request-form and input rules, and one renderer per answer.
 */
export * from "./errors.ts";
export * from "./input.ts";
export * from "./json.ts";
export * from "./paths.ts";
export * from "./requestForm.ts";
export * from "./routes.ts";
export * from "./status.ts";
export * from "./types.ts";
