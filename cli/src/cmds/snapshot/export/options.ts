/** `edgeledger snapshot export`'s options: the stopped node's home, the height, the file. */

import { count } from "../../../options/parsers.ts";
import type { CliOptions } from "../../../util/command.ts";

export interface SnapshotExportArgs {
  home: string;
  height: number;
  file: string;
}

export const snapshotExportOptions: CliOptions<SnapshotExportArgs> = {
  home: {
    flags: "--home <dir>",
    description: "the node's home (the node must be stopped)",
    required: true,
  },
  height: {
    flags: "--height <n>",
    description:
      "a height whose state the node keeps (within pruning.keepRecent, or a snapshot height)",
    required: true,
    parse: count(1, Number.MAX_SAFE_INTEGER),
  },
  file: { flags: "--file <path>", description: "the snapshot file to write", required: true },
};
