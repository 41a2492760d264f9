/** `edgeledger keys show`'s options: a key file, or a node home whose validator key to read. */
import type { CliOptions } from "../../../util/command.ts";

export interface KeysShowArgs {
  home?: string;
  key?: string;
}

export const keysShowOptions: CliOptions<KeysShowArgs> = {
  home: { flags: "--home <dir>", description: "a node home" },
  key: { flags: "--key <file>", description: "a key file" },
};
