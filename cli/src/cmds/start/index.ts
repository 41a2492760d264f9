/** `edgeledger start`: one node in this process until Ctrl-C. */
import type { CliCommand } from "../../util/command.ts";
import { startHandler } from "./handler.ts";
import { type StartArgs, startOptions } from "./options.ts";

export const start: CliCommand<StartArgs> = {
  command: "start",
  describe: "run the node in --home until Ctrl-C",
  options: startOptions,
  handler: startHandler,
};
