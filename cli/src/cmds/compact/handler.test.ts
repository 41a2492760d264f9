import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { paths } from "@edgeledger/node";
import { ClassicLevel } from "classic-level";
import { afterEach, describe, expect, it, vi } from "vitest";
import { compactHandler } from "./handler.ts";

const homes: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

async function homeWithDatabase(): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), "compact-home-"));
  homes.push(home);
  mkdirSync(paths(home).data, { recursive: true });
  const db = new ClassicLevel(paths(home).data);
  await db.put("a", "b");
  await db.close();
  return home;
}

describe("edgeledger compact", () => {
  it("compacts a stopped node's database and prints the sizes", async () => {
    const home = await homeWithDatabase();
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    await compactHandler({ home });
    expect(log).toHaveBeenCalledWith(
      expect.stringMatching(/^compacted .*data: .* MiB → .* MiB in /),
    );
  });

  it("refuses while the node runs (the database is locked)", async () => {
    const home = await homeWithDatabase();
    const running = new ClassicLevel(paths(home).data);
    await running.open();
    await expect(compactHandler({ home })).rejects.toMatchObject({ code: "DB_LOCKED" });
    await running.close();
  });
});
