/**
 * Reading request inputs the same way on the node and the edge: a field's
 * refusal names its part and field (`details: { in, field, problem }`), and
 * a height is one decimal reading. The route table's patterns check the
 * digits first (the node's schema, the edge's own check); this is what a
 * pattern cannot say.
 *
 * Pure: strings in, numbers or ApiErrors out.
 */
import { ApiError } from "../errors/protocol.ts";

/** Where in the request a field is. */
export type InputPart = "body" | "params" | "querystring";

/** REQUEST_INVALID for one field: `${part} field "${field}" ${problem}.` */
export function fieldInvalid(
  part: InputPart,
  field: string,
  problem: string,
  detailProblem = problem,
): ApiError {
  return new ApiError("REQUEST_INVALID", `${part} field "${field}" ${problem}.`, {
    details: { in: part, field, problem: detailProblem },
  });
}

/**
 * A decimal height from a path or query whose digits were checked: refuses
 * the few 16-digit values above Number.MAX_SAFE_INTEGER, which a number
 * could not hold exactly (so two heights would read as one).
 */
export function parseHeight(text: string, part: InputPart, field = "height"): number {
  const height = Number(text);
  if (!Number.isSafeInteger(height) || height < 0)
    throw fieldInvalid(part, field, "must be at most 2^53 - 1", "out of range");
  return height;
}
