/**
 * `edgeledger snapshot import`: checks and writes a snapshot file into an
 * empty home (node/src/statesync/file.ts); prints the height and block
 * hash, to compare with a node you trust before starting.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { importSnapshot, parseGenesis, paths } from "@edgeledger/node";
import type { SnapshotImportArgs } from "./options.ts";

export async function snapshotImportHandler(args: SnapshotImportArgs): Promise<void> {
  const p = paths(resolve(args.home));
  const genesis = parseGenesis(JSON.parse(readFileSync(p.genesis, "utf8")), p.genesis);
  const out = await importSnapshot(p.data, genesis, resolve(args.file));
  console.log(
    `imported height ${out.height} (block ${out.blockHash}), ${out.chunks} chunks verified; start the node to block-sync to the head`,
  );
}
