/**
 * The process that pruningCrash.test.ts kills with -9: it commits state-only
 * blocks (values from a small set, so subtrees often come back) to the
 * database in argv[2], with the Pruner running after every commit, and
 * prints each height once committed. Started again on the same folder, it
 * continues from the head. Never returns; the test's SIGKILL ends it.
 */
import { fromHex, SecretKey, SparseMerkleTree, sha256, toHex } from "@edgeledger/sdk/protocol";
import { Database, type HeadRecord } from "../db/database.ts";
import { Pruner } from "../db/pruner.ts";
import { CRASH_RETENTION, commitStateBlock, stateKey, stateValue } from "./stateBlocks.ts";

const KEYS = 12;

const dir = process.argv[2]!;
const validator = SecretKey.fromSeed(sha256(Uint8Array.of(0x99)));
const db = new Database(dir, { nodeCacheBytes: 1, retention: CRASH_RETENTION });
await db.open();
const tree = new SparseMerkleTree(db.stateStore);
const head = db.getMeta<HeadRecord>("head");
let root: Uint8Array;
if (head) root = fromHex(head.stateRoot);
else {
  const built = SparseMerkleTree.build(
    Array.from({ length: KEYS }, (_, i) => [stateKey(i), stateValue(0)] as const),
  );
  await db.putMeta("genesisRoot", toHex(built.root), built.writes);
  root = built.root;
}
const pruner = new Pruner(db, { stepEntries: 3 });
let seed = Number(process.argv[3] ?? 1) >>> 0 || 1;
const next = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % 1000;
};
for (let height = (head?.height ?? 0) + 1; ; height++) {
  const changes = Array.from(
    { length: 1 + (next() % 4) },
    () => [next() % KEYS, next() % 3] as const,
  );
  root = await commitStateBlock(db, tree, validator, root, height, changes);
  pruner.onCommit(height);
  process.stdout.write(`${height}\n`);
}
