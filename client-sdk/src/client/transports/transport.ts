/**
 * What a transport is: how the client reaches a server, whatever carries
 * it (http.ts over fetch; a test's fake in memory). Actions and the light
 * client know only this interface, never fetch.
 */

export interface TransportRequest {
  readonly method: "GET" | "POST";
  /** The path with its parameters filled in, e.g. `/v1/accounts/el1…`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

export interface ServerEvent {
  readonly event: string;
  readonly data: string;
}

export interface Transport {
  readonly urls: readonly string[];
  /** One JSON request; resolves with the 2xx body, throws a typed error otherwise. */
  request<T>(request: TransportRequest): Promise<T>;
  /** A Server-Sent Events stream (GET), until `signal` aborts or the server ends it. */
  events(path: string, signal: AbortSignal): AsyncIterable<ServerEvent>;
}
