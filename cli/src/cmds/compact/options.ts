/** `edgeledger compact`'s options: the home of a stopped node. */
import type { CliOptions } from "../../util/command.ts";

export interface CompactArgs {
  home: string;
}

export const compactOptions: CliOptions<CompactArgs> = {
  home: {
    flags: "--home <dir>",
    description: "the node's home folder (the node must be stopped)",
    required: true,
  },
};
