/**
 * A crash at any point of committing and pruning: a child process
 * (testing/pruningCrashChild.ts) commits and prunes without pause, and is
 * killed with -9 after a seeded number of blocks, several times over on the
 * same database. After each kill, every height the database still claims
 * to keep has its whole state tree in the state bucket.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CRASH_RETENTION, missingNodes } from "../testing/stateBlocks.ts";
import { Database, type HeadRecord } from "./database.ts";

const dir = mkdtempSync(join(tmpdir(), "prune-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CHILD = new URL("../testing/pruningCrashChild.ts", import.meta.url).pathname;

/**
 * Runs the child until it has committed `blocks` more blocks, then kills it
 * with -9 `delayMs` later: it keeps committing and pruning meanwhile, so
 * the kill lands at some point inside its work.
 */
function runAndKill(blocks: number, delayMs: number, seed: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(seed)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let seen = 0;
    let errors = "";
    child.stderr.on("data", (d) => (errors += d));
    child.stdout.on("data", (d: Buffer) => {
      seen += String(d).split("\n").filter(Boolean).length;
      if (seen >= blocks) setTimeout(() => child.kill("SIGKILL"), delayMs);
    });
    child.once("exit", (_code, signal) =>
      signal === "SIGKILL" ? resolve() : reject(new Error(`child exited on its own: ${errors}`)),
    );
  });
}

describe("pruning under kill -9", () => {
  it("leaves every kept height's state complete, whenever the process dies", async () => {
    const rounds = [17, 5, 31, 2, 23, 11, 8, 3, 19, 13, 7, 29];
    for (const [round, blocks] of rounds.entries()) {
      await runAndKill(blocks, (round * 7) % 13, round + 1);
      const db = new Database(dir, { nodeCacheBytes: 1, retention: CRASH_RETENTION });
      await db.open();
      const head = db.getMeta<HeadRecord>("head")!.height;
      expect(head).toBeGreaterThan(0);
      for (let h = db.oldestState(head); h <= head; h++) {
        const header = db.getHeader(h);
        expect(header, `header ${h}`).toBeDefined();
        expect(
          missingNodes(db, header!.stateRoot),
          `round ${round}, height ${h} of ${head}`,
        ).toEqual([]);
      }
      await db.close();
    }
  }, 60_000);
});
