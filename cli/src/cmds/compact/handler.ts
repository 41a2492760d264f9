/**
 * `edgeledger compact`: LevelDB's compactRange over the database of a
 * stopped node's home (node/src/db/compact.ts), printing the size before
 * and after. A running node holds the database's lock: the command then
 * fails with DB_LOCKED and changes nothing.
 */
import { resolve } from "node:path";
import { compactDatabase, paths } from "@edgeledger/node";
import type { CompactArgs } from "./options.ts";

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export async function compactHandler(args: CompactArgs): Promise<void> {
  const dir = paths(resolve(args.home)).data;
  const { before, after, ms } = await compactDatabase(dir);
  console.log(`compacted ${dir}: ${mib(before)} → ${mib(after)} in ${(ms / 1000).toFixed(1)} s`);
}
