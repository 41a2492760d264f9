/**
 * `getValidators`, and its verifier `verifyValidatorsAnswer`: the validator
 * set that signs a height, proven by the verified header that names it (its
 * own validatorsHash, or its parent's nextValidatorsHash for the next block).
 */
import { paths } from "../../api/paths.ts";
import type { ValidatorsJson } from "../../api/types.ts";
import { VerificationError } from "../../errors/client.ts";
import { equalBytes, fromHex } from "../../protocol/bytes.ts";
import {
  decodeValidatorSet,
  type ValidatorSet,
  validatorSetHash,
} from "../../protocol/validatorSet.ts";
import type { BaseClient } from "../clients/baseClient.ts";
import { checkFreshHeight, verifying } from "../verify/answer.ts";

/**
 * The validator set that signs `height` (default: the next block), proven
 * by a verified header: the set's hash is that header's validatorsHash (or
 * the previous header's nextValidatorsHash, for the next block).
 */
export async function getValidators(
  client: BaseClient,
  params: { height?: number; signal?: AbortSignal } = {},
): Promise<{ height: number; validators: ValidatorSet }> {
  const json = await client.transport.request<ValidatorsJson>({
    method: "GET",
    path: paths.getValidators,
    query: { height: params.height },
    ...(params.signal && { signal: params.signal }),
  });
  return verifyValidatorsAnswer(client, json, params);
}

/**
 * Verifies a GET /v1/validators answer for the height asked (none: the
 * answer's own, the next block). Like the other verify*Answer functions,
 * for servers that pass answers on (the edge).
 */
async function checkValidatorsAnswer(
  client: BaseClient,
  json: ValidatorsJson,
  params: { height?: number },
): Promise<{ height: number; validators: ValidatorSet }> {
  let set: ValidatorSet;
  try {
    set = decodeValidatorSet(fromHex(json.validatorSetBytes));
  } catch (err) {
    throw new VerificationError("VERIFY_INCOMPLETE", "The validator set does not decode.", {
      cause: err,
    });
  }
  const height: unknown = json.height;
  // A set signs heights from 1 on; a height spelled otherwise (a string, a
  // fraction) is not one, whatever it would coerce to.
  if (typeof height !== "number" || !Number.isSafeInteger(height) || height < 1)
    throw new VerificationError("VERIFY_INCOMPLETE", "The answer's height is not a height.", {
      details: { answered: String(height) },
    });
  if (params.height !== undefined && height !== params.height)
    throw new VerificationError("VERIFY_MISMATCH", "The answer is for another height.", {
      details: { asked: params.height, answered: height },
    });
  // The header that names this set: its own (if final) or its parent's `next`.
  let named: Uint8Array;
  try {
    named = (await client.lightClient.header(height)).validatorsHash;
  } catch (err) {
    if ((err as { code?: string }).code !== "NOT_FOUND") throw err;
    named = (await client.lightClient.header(height - 1)).nextValidatorsHash;
  }
  if (!equalBytes(validatorSetHash(set), named))
    throw new VerificationError(
      "VERIFY_MISMATCH",
      "The validator set served is not the one the verified header names.",
    );
  // The next block's set, asked without a height, signs the block after the
  // server's head: held to the freshness of any "latest" read, by that head
  // (after the headers above, so a cold client judges it too).
  if (params.height === undefined) checkFreshHeight(client, height - 1);
  return { height, validators: set };
}

/** Verifies a GET /v1/validators answer for the height asked (none: the next block). */
export function verifyValidatorsAnswer(
  client: BaseClient,
  json: ValidatorsJson,
  params: { height?: number },
): Promise<{ height: number; validators: ValidatorSet }> {
  return verifying("validator set", () => checkValidatorsAnswer(client, json, params));
}
