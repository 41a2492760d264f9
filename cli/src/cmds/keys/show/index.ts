/** `edgeledger keys show`: describe a key file or a node's validator key. */
import type { CliCommand } from "../../../util/command.ts";
import { keysShowHandler } from "./handler.ts";
import { type KeysShowArgs, keysShowOptions } from "./options.ts";

export const keysShow: CliCommand<KeysShowArgs> = {
  command: "show",
  describe: "show the public key and address of a key file or of a node's validator key",
  options: keysShowOptions,
  handler: keysShowHandler,
};
