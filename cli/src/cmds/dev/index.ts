/** `edgeledger dev` (what `npm start` runs): a local network of validator processes and an edge worker. */
import type { CliCommand } from "../../util/command.ts";
import { devHandler } from "./handler.ts";
import { type DevArgs, devOptions } from "./options.ts";

export const dev: CliCommand<DevArgs> = {
  command: "dev",
  describe:
    "run a local network of validators, each its own process, with a funded dev account (what `npm start` runs); continues it on the next run",
  options: devOptions,
  handler: devHandler,
};
