/** `edgeledger keys new`'s options: where to write the key. */
import type { CliOptions } from "../../../util/command.ts";

export interface KeysNewArgs {
  out: string;
}

export const keysNewOptions: CliOptions<KeysNewArgs> = {
  out: { flags: "--out <file>", description: "where to write the key", required: true },
};
