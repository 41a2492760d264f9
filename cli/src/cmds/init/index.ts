/** `edgeledger init`: a node home (config, validator key, genesis). */
import type { CliCommand } from "../../util/command.ts";
import { initHandler } from "./handler.ts";
import { type InitArgs, initOptions } from "./options.ts";

export const init: CliCommand<InitArgs> = {
  command: "init",
  describe: "create a node home: config.json with every default, a validator key (0600), a genesis",
  options: initOptions,
  handler: initHandler,
};
