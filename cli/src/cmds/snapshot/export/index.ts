/** `edgeledger snapshot export`: a stopped node's state at one height, to a file. */
import type { CliCommand } from "../../../util/command.ts";
import { snapshotExportHandler } from "./handler.ts";
import { type SnapshotExportArgs, snapshotExportOptions } from "./options.ts";

export const snapshotExport: CliCommand<SnapshotExportArgs> = {
  command: "export",
  describe: "write a stopped node's state at a height (with its header and certificate) to a file",
  options: snapshotExportOptions,
  handler: snapshotExportHandler,
};
