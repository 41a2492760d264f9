/** `edgeledger snapshot import`'s options: the new home and the file. */
import type { CliOptions } from "../../../util/command.ts";

export interface SnapshotImportArgs {
  home: string;
  file: string;
}

export const snapshotImportOptions: CliOptions<SnapshotImportArgs> = {
  home: {
    flags: "--home <dir>",
    description: "a home made by `edgeledger init` that has not started yet",
    required: true,
  },
  file: { flags: "--file <path>", description: "the snapshot file to read", required: true },
};
