/** `snapshot export|import`: a height's state through a file, checked on the way in. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accountKey, toHex } from "@edgeledger/sdk/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { Chain } from "../chain/chain.ts";
import { Database } from "../db/database.ts";
import { addressOf, openTestChain, removeTestDirs } from "../testing/fixtures.ts";
import { commitTransferBlocks, stateSyncGenesis } from "../testing/stateSyncChain.ts";
import { exportSnapshot, importSnapshot } from "./file.ts";

const genesis = stateSyncGenesis(50);
const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterAll(() => {
  removeTestDirs();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("snapshot export and import", () => {
  it("restores the exported height's state and head into an empty home; refuses a tampered file", async () => {
    const source = await openTestChain(genesis);
    await commitTransferBlocks(source.chain, 3);
    const root = source.chain.head.header.stateRoot;
    await source.db.close();
    const file = join(tmp("snapfile-"), "h3.snapshot");
    const out = await exportSnapshot(source.dir, genesis, 3, file);
    expect(out.height).toBe(3);

    const restored = tmp("restored-");
    const back = await importSnapshot(restored, genesis, file);
    expect(back.blockHash).toBe(out.blockHash);
    const db = new Database(restored);
    await db.open();
    const chain = new Chain(db, genesis);
    await chain.init();
    expect(chain.head.height).toBe(3);
    expect(toHex(chain.head.hash)).toBe(out.blockHash);
    expect(await chain.tree.get(root, accountKey(addressOf(1003)))).not.toBeNull();
    await db.close();

    const tampered = readFileSync(file);
    tampered[tampered.length - 1]! ^= 1;
    const badFile = `${file}.bad`;
    writeFileSync(badFile, tampered);
    await expect(importSnapshot(tmp("bad-"), genesis, badFile)).rejects.toMatchObject({
      code: "SNAPSHOT_BAD_FILE",
    });
    await expect(importSnapshot(restored, genesis, file)).rejects.toMatchObject({
      code: "SNAPSHOT_HOME_NOT_EMPTY",
    });
  });
});
