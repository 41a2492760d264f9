/**
 * Blocks that only change state, committed to a Database the way Chain
 * commits (tree update, stale nodes, one batch), for the pruning tests and
 * their crash child (pruningCrashChild.ts); and a walk that names the nodes
 * a root needs that the state bucket lacks.
 */
import {
  type Block,
  EMPTY_ROOT,
  encodeBlock,
  type SecretKey,
  type SparseMerkleTree,
  sha256,
  toHex,
} from "@edgeledger/sdk/protocol";
import type { Database } from "../db/database.ts";
import { certifyAlone } from "./fixtures.ts";

/** What the crash child keeps (pruningCrashChild.ts), and its test checks against. */
export const CRASH_RETENTION = { keepRecent: 3, retainBlocks: 4 };

export const stateKey = (i: number) => sha256(Uint8Array.of(i, 0x77));
export const stateValue = (v: number) => Uint8Array.of(v, 0xaa);

/** Commits block `height` setting keys (by index) to values (by number); returns its state root. */
export async function commitStateBlock(
  db: Database,
  tree: SparseMerkleTree,
  validator: SecretKey,
  parentRoot: Uint8Array,
  height: number,
  changes: readonly (readonly [number, number])[],
): Promise<Uint8Array> {
  const update = await tree.update(
    parentRoot,
    changes.map(([k, v]) => [stateKey(k), stateValue(v)]),
  );
  const block = blockAt(height, update.root, validator.publicKey);
  const blockBytes = encodeBlock(block);
  const hash = sha256(blockBytes);
  await db.commitBlock(
    {
      block,
      blockBytes,
      blockHash: hash,
      certificate: certifyAlone(validator, height, hash),
      txHashes: [],
      stateWrites: update.writes,
      staleNodes: update.stale,
      head: { height, hash: toHex(hash), stateRoot: toHex(update.root) },
    },
    { sync: false },
  );
  return update.root;
}

function blockAt(height: number, stateRoot: Uint8Array, proposer: Uint8Array): Block {
  const zero = new Uint8Array(32);
  return {
    header: {
      chainId: "test-chain",
      height,
      time: 1_000 + height,
      parentHash: zero,
      txRoot: zero,
      txCount: 0,
      evidenceRoot: zero,
      stateRoot,
      validatorsHash: zero,
      nextValidatorsHash: zero,
      proposer,
    },
    txs: [],
    evidence: [],
  };
}

/** Hashes of the nodes `root` needs that the state bucket itself lacks (the cache aside). */
export function missingNodes(db: Database, root: Uint8Array): string[] {
  const out: string[] = [];
  const walk = (hash: Uint8Array) => {
    if (toHex(hash) === toHex(EMPTY_ROOT)) return;
    if (!db.hasStateNode(hash)) {
      out.push(toHex(hash));
      return;
    }
    const node = db.stateStore.get(hash)!;
    if (node[0] === 0x03) {
      walk(node.subarray(1, 33));
      walk(node.subarray(33, 65));
    }
  };
  walk(root);
  return out;
}
