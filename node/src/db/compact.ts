/**
 * Offline compaction of a node's LevelDB (`edgeledger compact`): LevelDB's
 * compactRange over every key, so the space of deleted records (pruned
 * state nodes, dropped block bodies) comes back now rather than when
 * LevelDB's own compactions reach their files. Opens the database itself,
 * so the node must be stopped: LevelDB's lock refuses a second opener.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { BaseError } from "@edgeledger/sdk/protocol";
import { ClassicLevel } from "classic-level";

export class CompactError extends BaseError<"DB_LOCKED" | "DB_MISSING"> {
  override name = "CompactError";
}

/** Bytes of the files in a database folder (a file a running compaction removes meanwhile counts 0). */
export function databaseBytes(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir))
    total += statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0;
  return total;
}

export interface CompactResult {
  readonly before: number;
  readonly after: number;
  readonly ms: number;
}

export async function compactDatabase(dir: string): Promise<CompactResult> {
  if (!existsSync(join(dir, "CURRENT")))
    throw new CompactError("DB_MISSING", `No LevelDB database in ${dir}.`, {
      details: { dir, fix: "give the home of a node that has started at least once" },
    });
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    keyEncoding: "view",
    valueEncoding: "view",
    createIfMissing: false,
  });
  try {
    await db.open();
  } catch (cause) {
    throw new CompactError("DB_LOCKED", `${dir} is in use: stop the node first, then compact.`, {
      details: { dir },
      cause,
    });
  }
  const before = databaseBytes(dir);
  const started = performance.now();
  try {
    await db.compactRange(new Uint8Array([0x00]), new Uint8Array([0xff]));
  } finally {
    await db.close();
  }
  return { before, after: databaseBytes(dir), ms: performance.now() - started };
}
