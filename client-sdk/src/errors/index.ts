export { BaseError, type BaseErrorOptions, type ErrorDetails } from "./base.ts";
export * from "./client.ts";
export * from "./protocol.ts";
export * from "./wallet.ts";
