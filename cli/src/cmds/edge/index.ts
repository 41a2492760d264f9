/** `edgeledger edge`: an edge worker in this process, in front of nodes. */
import type { CliCommand } from "../../util/command.ts";
import { edgeHandler } from "./handler.ts";
import { type EdgeArgs, edgeOptions } from "./options.ts";

export const edge: CliCommand<EdgeArgs> = {
  command: "edge",
  describe:
    "run an edge worker in front of nodes: the node's read API with every answer verified before it is cached or served, submissions forwarded (see edge/README.md)",
  options: edgeOptions,
  handler: edgeHandler,
};
