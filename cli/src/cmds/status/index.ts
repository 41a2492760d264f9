/** `edgeledger status`: a node's status, through the SDK. */
import type { CliCommand } from "../../util/command.ts";
import { statusHandler } from "./handler.ts";
import { type StatusArgs, statusOptions } from "./options.ts";

export const status: CliCommand<StatusArgs> = {
  command: "status",
  describe: "print a node's status (the SDK's getStatus) and its health (GET /v1/health)",
  options: statusOptions,
  handler: statusHandler,
};
