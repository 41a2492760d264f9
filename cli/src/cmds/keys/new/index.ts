/** `edgeledger keys new`: make a key file. */
import type { CliCommand } from "../../../util/command.ts";
import { keysNewHandler } from "./handler.ts";
import { type KeysNewArgs, keysNewOptions } from "./options.ts";

export const keysNew: CliCommand<KeysNewArgs> = {
  command: "new",
  describe: "make a key and write it to a file (mode 0600)",
  options: keysNewOptions,
  handler: keysNewHandler,
};
