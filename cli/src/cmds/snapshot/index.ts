/** `edgeledger snapshot`: groups `export` and `import` (offline backup and restore of one height's state). */
import type { CliCommand } from "../../util/command.ts";
import { snapshotExport } from "./export/index.ts";
import { snapshotImport } from "./import/index.ts";

export const snapshot: CliCommand = {
  command: "snapshot",
  describe: "back up one height's state to a file, or restore a new home from one",
  subcommands: [snapshotExport, snapshotImport],
};
