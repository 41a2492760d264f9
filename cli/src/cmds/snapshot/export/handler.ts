/**
 * `edgeledger snapshot export`: writes the state at --height of a stopped
 * node (node/src/statesync/file.ts) and prints the block hash, which a
 * restore can be checked against.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { exportSnapshot, parseGenesis, paths } from "@edgeledger/node";
import type { SnapshotExportArgs } from "./options.ts";

export async function snapshotExportHandler(args: SnapshotExportArgs): Promise<void> {
  const p = paths(resolve(args.home));
  const genesis = parseGenesis(JSON.parse(readFileSync(p.genesis, "utf8")), p.genesis);
  const out = await exportSnapshot(p.data, genesis, args.height, resolve(args.file));
  console.log(
    `exported height ${out.height} (block ${out.blockHash}): ${out.chunks} chunks, ${out.bytes} bytes to ${args.file}`,
  );
}
