/**
 * Reading a request's form and fields after the schema checked them, and
 * before any route: the request target, the Host header, bytes the HTTP
 * parser refused. The rules are the SDK's (@edgeledger/sdk/api), the edge's
 * too; this binds them to Node's request and socket.
 */
import type { Socket } from "node:net";
import {
  type InputPart,
  parseHeight,
  parserErrorAnswer,
  rawHttpAnswer,
  requestTargetError,
} from "@edgeledger/sdk/api";
import { ApiError, fromHex, KeyError } from "@edgeledger/sdk/protocol";

/**
 * Hex that the schema already checked; fromHex is the protocol's one reading
 * of it. Should the two ever disagree, the client hears which field.
 */
export function hexInput(
  text: string,
  part: InputPart,
  field: string,
  length?: number,
): Uint8Array {
  try {
    return fromHex(text, length);
  } catch (error) {
    if (error instanceof KeyError) {
      throw new ApiError("REQUEST_INVALID", `${part} field "${field}" must be lowercase hex.`, {
        details: { in: part, field, problem: error.shortMessage },
        cause: error,
      });
    }
    throw error;
  }
}

/** A decimal height from a path or query (the schema checked the digits). */
export function heightInput(text: string, part: InputPart, field?: string): number;
export function heightInput(
  text: string | undefined,
  part: InputPart,
  field?: string,
): number | undefined;
export function heightInput(
  text: string | undefined,
  part: InputPart,
  field = "height",
): number | undefined {
  return text === undefined ? undefined : parseHeight(text, part, field);
}

/**
 * The request's form, before any route: the target (requestTargetError, the
 * edge's rule too) and, for HTTP/1.1, a Host header (which Node's own check
 * would answer with an empty 400).
 */
export function requestFormError(
  target: string,
  raw: { httpVersion: string; headers: Record<string, unknown> },
): ApiError | null {
  const targetError = requestTargetError(target);
  if (targetError) return targetError;
  if (raw.httpVersion === "1.1" && raw.headers["host"] === undefined)
    return new ApiError("REQUEST_INVALID", "An HTTP/1.1 request needs a Host header.", {
      details: { in: "headers", field: "host" },
    });
  return null;
}

/** fastify's clientErrorHandler: the parser refused the bytes; answer in the error shape and close. */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  if (socket.writable) socket.end(rawHttpAnswer(parserErrorAnswer(error.code)));
  else socket.destroy(error);
}
