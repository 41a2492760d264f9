/**
 * The genesis state on disk: written once, into an empty database, in
 * bounded chunks, so that a genesis of 10^6 derived accounts neither holds
 * its whole tree in memory nor puts it in one LevelDB batch (issue 14).
 * Later starts read the root back instead of building the tree again. Only
 * the state tree's public `update` is used, so the root is the tree's own
 * canonical root of the same (key, value) set that genesisState builds in
 * memory (genesis.test.ts checks they agree).
 */
import {
  accountKey,
  type BlockHeader,
  compareBytes,
  EMPTY_ROOT,
  encodeAccount,
  fromHex,
  type NodeWrite,
  type SparseMerkleTree,
  sha256,
  toHex,
  utf8,
} from "@edgeledger/sdk/protocol";
import type { Database } from "../db/database.ts";
import {
  collisionError,
  derivedAddress,
  type Genesis,
  type GenesisEntry,
  genesisHeader,
  genesisState,
  genesisToFile,
  listedEntries,
} from "./genesis.ts";

/**
 * Accounts per tree update and write batch. A chunk's nodes (about two per
 * account, ~100 bytes each) are the build's only memory beside the keys.
 */
const CHUNK_ACCOUNTS = 10_000;

/** Meta record of the genesis; `source` and `stateRoot` let a restart skip the build. */
export interface GenesisRecord {
  readonly hash: string;
  readonly stateRoot?: string;
  readonly source?: string;
}

/** Progress of a build under way (a crash restarts it: nodes are content-addressed). */
const BUILD_META = "genesis-build";

/** A digest of the parsed genesis: equal sources give equal states. */
function sourceOf(g: Genesis): string {
  // The schedule is not state: adding an activation to a running chain's
  // genesis must not make a large genesis rebuild its root at every start.
  const { upgrades: _schedule, ...state } = genesisToFile(g);
  return toHex(sha256(utf8(JSON.stringify(state))));
}

/**
 * Writes every genesis account into the tree through `persist`, chunk by
 * chunk in key order, and returns the root. Keys are sorted by a counting
 * sort on their first 16 bits (they are hashes, so the buckets are even),
 * then each bucket by bytes; a chunk is a run of whole buckets, so each
 * update only appends to the right edge of the tree built so far.
 */
export async function writeGenesisState(
  g: Genesis,
  tree: SparseMerkleTree,
  persist: (writes: readonly NodeWrite[], accountsDone: number) => Promise<void>,
  chunkAccounts = CHUNK_ACCOUNTS,
): Promise<Uint8Array> {
  const listed = listedEntries(g);
  const d = g.derivedAccounts;
  const n = listed.length + (d?.count ?? 0);
  const keys = new Uint8Array(n * 32);
  for (const [i, e] of listed.entries()) keys.set(e.key, i * 32);
  for (let i = 0; i < (d?.count ?? 0); i++)
    keys.set(accountKey(derivedAddress(d!.seed, i)), (listed.length + i) * 32);
  const derivedValue = d ? encodeAccount({ balance: d.balance, nonce: 0 }) : new Uint8Array();

  const starts = new Uint32Array(65_537);
  for (let i = 0; i < n; i++) starts[((keys[i * 32]! << 8) | keys[i * 32 + 1]!) + 1]!++;
  for (let b = 0; b < 65_536; b++) starts[b + 1]! += starts[b]!;
  const order = new Uint32Array(n);
  const fill = starts.slice(0, 65_536);
  for (let i = 0; i < n; i++) order[fill[(keys[i * 32]! << 8) | keys[i * 32 + 1]!]!++] = i;

  const entryAt = (i: number): GenesisEntry & { index: number } => ({
    index: i,
    key: keys.subarray(i * 32, i * 32 + 32),
    value: i < listed.length ? listed[i]!.value : derivedValue,
  });
  let root = EMPTY_ROOT;
  let done = 0;
  let chunk: (GenesisEntry & { index: number })[] = [];
  const flush = async () => {
    for (let k = 1; k < chunk.length; k++) {
      if (compareBytes(chunk[k - 1]!.key, chunk[k]!.key) !== 0) continue;
      // Listed keys are unique and come first, so the pair is a listed and a derived account.
      const derivedIndex = Math.max(chunk[k - 1]!.index, chunk[k]!.index) - listed.length;
      throw collisionError(derivedAddress(d!.seed, derivedIndex), derivedIndex);
    }
    const update = await tree.update(
      root,
      chunk.map((e) => [e.key, e.value] as const),
    );
    root = update.root;
    done += chunk.length;
    await persist(update.writes, done);
    chunk = [];
  };
  for (let b = 0; b < 65_536; b++) {
    const bucket = Array.from(order.subarray(starts[b]!, starts[b + 1]!), entryAt);
    bucket.sort((x, y) => compareBytes(x.key, y.key) || x.index - y.index);
    chunk.push(...bucket);
    if (chunk.length >= chunkAccounts) await flush();
  }
  if (chunk.length > 0) await flush();
  return root;
}

/**
 * The genesis record of a database whose state came from elsewhere (state
 * sync writes it in its last batch): its root, checked by the caller against
 * header 1's parent, so openGenesis reads the header back instead of
 * building the genesis state.
 */
export function genesisRecord(g: Genesis, stateRoot: Uint8Array): GenesisRecord {
  return {
    hash: toHex(genesisHeader(g, stateRoot).hash),
    stateRoot: toHex(stateRoot),
    source: sourceOf(g),
  };
}

/**
 * The genesis header of this database: built and written on first start
 * (state chunk by chunk, then the record), read back on later ones. Refuses
 * a database made for another genesis.
 */
export async function openGenesis(
  db: Database,
  tree: SparseMerkleTree,
  g: Genesis,
): Promise<{ header: BlockHeader; hash: Uint8Array }> {
  const source = sourceOf(g);
  const record = db.getMeta<GenesisRecord>("genesis");
  if (!record) {
    const root = await writeGenesisState(g, tree, (writes, accounts) =>
      db.putMeta(BUILD_META, { accounts }, writes),
    );
    const built = genesisHeader(g, root);
    await db.putMeta("genesis", {
      hash: toHex(built.hash),
      stateRoot: toHex(root),
      source,
    } satisfies GenesisRecord);
    return built;
  }
  // A record from before `source` was kept, or a genesis file that differs
  // (it may still describe the same state): compute the root to compare.
  const expected =
    record.source === source && record.stateRoot
      ? genesisHeader(g, fromHex(record.stateRoot))
      : genesisState(g);
  if (record.hash !== toHex(expected.hash))
    throw new Error(
      `This database belongs to genesis ${record.hash}, but genesis.json hashes to ${toHex(expected.hash)}: use the matching genesis or a new home.`,
    );
  return { header: expected.header, hash: expected.hash };
}
