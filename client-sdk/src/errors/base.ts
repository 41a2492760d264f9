/**
 * The error base every edgeledger package throws from.
 *
 * Shaped like viem's BaseError: a stable machine `code`, a `shortMessage` that
 * says what to fix, structured `details`, and a `cause` chain that `walk()`
 * follows. Node, edge and SDK share the codes; the HTTP layer maps them once.
 */
export type ErrorDetails = Readonly<Record<string, unknown>>;

export interface BaseErrorOptions {
  details?: ErrorDetails;
  cause?: unknown;
}

export class BaseError<Code extends string = string> extends Error {
  override name = "BaseError";
  readonly code: Code;
  readonly shortMessage: string;
  readonly details: ErrorDetails;

  constructor(code: Code, shortMessage: string, options: BaseErrorOptions = {}) {
    const detailText = options.details ? formatDetails(options.details) : "";
    super(`${shortMessage}${detailText ? `\n\n${detailText}` : ""}\n\ncode: ${code}`, {
      cause: options.cause,
    });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details ?? {};
  }

  /** Follows the `cause` chain; returns the first error `fn` accepts, or the deepest one. */
  walk(fn?: (err: unknown) => boolean): unknown {
    let current: unknown = this;
    for (;;) {
      if (fn?.(current)) return current;
      const next = current instanceof Error ? current.cause : undefined;
      if (next === undefined) return fn ? undefined : current;
      current = next;
    }
  }

  /** The JSON shape the HTTP APIs answer with: `{ code, message, details }`. */
  toJSON(): { code: Code; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.shortMessage, details: this.details };
  }
}

function formatDetails(details: ErrorDetails): string {
  return Object.entries(details)
    .map(
      ([key, value]) => `${key}: ${typeof value === "bigint" ? value.toString() : String(value)}`,
    )
    .join("\n");
}
