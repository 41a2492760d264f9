/** `edgeledger snapshot import`: a new home's state from a snapshot file. */
import type { CliCommand } from "../../../util/command.ts";
import { snapshotImportHandler } from "./handler.ts";
import { type SnapshotImportArgs, snapshotImportOptions } from "./options.ts";

export const snapshotImport: CliCommand<SnapshotImportArgs> = {
  command: "import",
  describe:
    "restore a new (never started) home from a snapshot file; the node then block-syncs from there",
  options: snapshotImportOptions,
  handler: snapshotImportHandler,
};
