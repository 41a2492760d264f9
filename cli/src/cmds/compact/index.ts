/** `edgeledger compact`: compacts a stopped node's LevelDB. */
import type { CliCommand } from "../../util/command.ts";
import { compactHandler } from "./handler.ts";
import { type CompactArgs, compactOptions } from "./options.ts";

export const compact: CliCommand<CompactArgs> = {
  command: "compact",
  describe: "compact a stopped node's database, giving back the space of pruned records",
  options: compactOptions,
  handler: compactHandler,
};
