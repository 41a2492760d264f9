import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { afterEach, describe, expect, it } from "vitest";
import { compactDatabase, databaseBytes } from "./compact.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A database that wrote ~8 MB (1 KB values) of records and deleted them all. */
async function churned(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "compact-"));
  dirs.push(dir);
  const db = new ClassicLevel<string, string>(dir);
  // Incompressible (LevelDB compresses blocks) and deterministic.
  const value = (n: string) =>
    Array.from({ length: 16 }, (_, j) =>
      createHash("sha256").update(`${n}/${j}`).digest("hex"),
    ).join("");
  for (let round = 0; round < 8; round++) {
    const ops = Array.from({ length: 1000 }, (_, i) => ({
      type: "put" as const,
      key: `k${round}-${i}`,
      value: value(`${round}-${i}`),
    }));
    await db.batch(ops);
  }
  for (let round = 0; round < 8; round++)
    await db.batch(
      Array.from({ length: 1000 }, (_, i) => ({ type: "del" as const, key: `k${round}-${i}` })),
    );
  await db.close();
  return dir;
}

describe("compaction", () => {
  it("gives back the space of deleted records", async () => {
    const dir = await churned();
    const result = await compactDatabase(dir);
    expect(result.before).toBeGreaterThan(4_000_000);
    expect(result.after).toBeLessThan(result.before / 4);
    expect(databaseBytes(dir)).toBe(result.after);
  });

  it("refuses a database a running node holds, with DB_LOCKED", async () => {
    const dir = await churned();
    const running = new ClassicLevel(dir);
    await running.open();
    await expect(compactDatabase(dir)).rejects.toMatchObject({ code: "DB_LOCKED" });
    await running.close();
  });

  it("refuses a folder without a database, with DB_MISSING", async () => {
    const dir = mkdtempSync(join(tmpdir(), "compact-"));
    dirs.push(dir);
    await expect(compactDatabase(join(dir, "data"))).rejects.toMatchObject({ code: "DB_MISSING" });
  });
});
