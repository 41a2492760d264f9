/** `edgeledger keys`: groups the key commands (`new`, `show`); alone, it prints its help. */
import type { CliCommand } from "../../util/command.ts";
import { keysNew } from "./new/index.ts";
import { keysShow } from "./show/index.ts";

export const keys: CliCommand = {
  command: "keys",
  describe: "manage Ed25519 keys",
  subcommands: [keysNew, keysShow],
};
