/**
 * The validator sets the light client has checked, by hash: a set is named
 * by its hash in every header it signs, so one already checked against that
 * hash needs no fetch (sets change rarely: most new headers name one held).
 * Bounded (MAX_SETS): a server naming a new set per header cannot grow it.
 */
import { paths } from "../../api/paths.ts";
import type { ValidatorsJson } from "../../api/types.ts";
import { VerificationError } from "../../errors/client.ts";
import { equalBytes, fromHex, toHex } from "../../protocol/bytes.ts";
import {
  decodeValidatorSet,
  type ValidatorSet,
  validatorSetHash,
} from "../../protocol/validatorSet.ts";
import type { Transport } from "../transports/transport.ts";

/** Most validator sets remembered by hash. */
const MAX_SETS = 64;

export class ValidatorSets {
  readonly #transport: Transport;
  /** Validator sets already checked against their hash. */
  readonly #byHash = new Map<string, ValidatorSet>();

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** A set that came with a verified header (it hashes to the header's, or the anchor's next). */
  remember(set: ValidatorSet): void {
    this.#byHash.set(toHex(validatorSetHash(set)), set);
  }

  /** The set that signs `height`, checked against the hash a verified (or verifying) header names. */
  async fetch(height: number, expectedHash: Uint8Array): Promise<ValidatorSet> {
    const known = this.#byHash.get(toHex(expectedHash));
    if (known) return known;
    const json = await this.#transport.request<ValidatorsJson>({
      method: "GET",
      path: paths.getValidators,
      query: { height },
    });
    let set: ValidatorSet;
    try {
      set = decodeValidatorSet(fromHex(json.validatorSetBytes));
    } catch (err) {
      throw new VerificationError("VERIFY_HEADER", "A validator set served does not decode.", {
        cause: err,
      });
    }
    if (!equalBytes(validatorSetHash(set), expectedHash))
      throw new VerificationError(
        "VERIFY_HEADER",
        `The validator set served for height ${height} is not the one the header names.`,
      );
    if (this.#byHash.size >= MAX_SETS) this.#byHash.clear();
    this.#byHash.set(toHex(expectedHash), set);
    return set;
  }
}
