/**
 * Storage bench (issue 15, "Pruning and bounded storage"): disk use of a
 * node's database over BENCH_STORAGE_BLOCKS blocks of transfers among a
 * fixed set of accounts, with pruning (keepRecent and retainBlocks as set
 * below) and without (an archive node, a shorter run).
 *
 * Drives Chain and Database directly, as consensus and block sync do (build,
 * commit with a certificate, the Pruner after each commit), without a
 * network or signatures: 100 000 blocks through consensus would take hours,
 * and neither changes what is stored. Commits are not fsynced (as block
 * sync's are not): the bytes are the same.
 *
 * Prints the database's size at 1k, 10k and 100k blocks and the factor
 * (target ≤ 2 × the size at 1k) twice: with every header and certificate
 * kept (the default: ~0.3 KiB a block, so the whole grows without bound;
 * also shown without them) and with pruning.retainHeaders (the whole disk
 * bounded; this chain's set never changes, so no change header is kept);
 * LevelDB's per-bucket estimate, the archive run's growth, the size after an
 * explicit compaction (is an automatic policy needed?), and the commit cost
 * with and without pruning's bookkeeping, as a ratio measured in this run.
 *
 * Run: node bench/storage.bench.ts (npm run bench runs it); BENCH_QUICK=1 for
 * a short run. Writes bench/out/storage.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  addressFromPublicKey,
  encodeSignedTransaction,
  SecretKey,
  sha256,
  transactionHash,
} from "@edgeledger/sdk/protocol";
import { useNativeSha256 } from "@edgeledger/sdk/protocol/node";
import { Chain } from "../src/chain/chain.ts";
import type { Genesis } from "../src/chain/genesis.ts";
import { databaseBytes } from "../src/db/compact.ts";
import { type BucketName, Database, type RetentionOptions } from "../src/db/database.ts";
import { Pruner } from "../src/db/pruner.ts";
import type { PendingTx } from "../src/mempool/mempool.ts";
import { certifyAlone } from "../src/testing/fixtures.ts";

useNativeSha256();
const QUICK = process.env["BENCH_QUICK"] === "1";
const ACCOUNTS = 1000;
const TXS_PER_BLOCK = 2;
const BLOCKS = Number(process.env["BENCH_STORAGE_BLOCKS"] ?? (QUICK ? 5000 : 100_000));
const ARCHIVE_BLOCKS = QUICK ? 2000 : 10_000;
const CHECKPOINTS = [...new Set([1000, 10_000, 100_000, BLOCKS])].filter((c) => c <= BLOCKS);
const PRUNED: RetentionOptions = { keepRecent: 100, retainBlocks: 100 };
const HEADERS_PRUNED: RetentionOptions = { ...PRUNED, retainHeaders: 100 };
const ARCHIVE: RetentionOptions = { keepRecent: 0, retainBlocks: 0 };
const TARGET_FACTOR = 2;
const NOW = 1_800_000_000_000;
const CHAIN_ID = "storage-bench";

const validator = SecretKey.fromSeed(sha256(Uint8Array.of(0x51)));
const keys = Array.from({ length: ACCOUNTS }, (_, i) =>
  SecretKey.fromSeed(sha256(Uint8Array.of(0x52, i & 0xff, i >> 8))),
);
const addresses = keys.map((k) => addressFromPublicKey(k.publicKey));
const genesis: Genesis = {
  chainId: CHAIN_ID,
  time: NOW - 1000,
  validators: [{ publicKey: validator.publicKey, power: 1n }],
  accounts: addresses.map((address) => ({ address, balance: 10n ** 15n })),
};

/** xorshift32: the same transfers in every run. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

interface Sample {
  blocks: number;
  bytes: number;
  buckets: Record<BucketName, number>;
}

async function run(
  retention: RetentionOptions,
  blocks: number,
  checkpoints: readonly number[],
): Promise<{ samples: Sample[]; msPerBlock: number; compacted: number; pruner: Pruner["totals"] }> {
  const dir = mkdtempSync(join(tmpdir(), "storage-bench-"));
  const db = new Database(dir, { retention });
  await db.open();
  const chain = new Chain(db, genesis);
  await chain.init();
  const pruner = new Pruner(db);
  const next = random(15);
  const nonces = new Array<number>(ACCOUNTS).fill(0);
  const signature = new Uint8Array(64); // never checked here: buildBlock leaves signatures to its caller
  const samples: Sample[] = [];
  const started = performance.now();
  for (let h = 1; h <= blocks; h++) {
    const txs: PendingTx[] = [];
    for (let i = 0; i < TXS_PER_BLOCK; i++) {
      const from = Math.floor(next() * ACCOUNTS);
      const to = Math.floor(next() * ACCOUNTS);
      const tx = {
        chainId: CHAIN_ID,
        from: keys[from]!.publicKey,
        nonce: nonces[from]!++,
        expiresAt: NOW + 600_000,
        body: { kind: "transfer" as const, to: addresses[to]!, amount: 1n + BigInt(h % 7) },
      };
      const stx = { tx, signature };
      const bytes = encodeSignedTransaction(stx);
      txs.push({ hash: transactionHash(tx), key: "", stx, bytes, sender: "", seq: 0 });
    }
    const built = await chain.buildBlock(txs, chain.nextTime(NOW), validator.publicKey);
    if (built.failed.length > 0) throw new Error(`block ${h}: ${built.failed[0]!.error.message}`);
    await chain.commit(built, certifyAlone(validator, h, built.blockHash, CHAIN_ID), {
      durable: false,
    });
    pruner.onCommit(h);
    if (checkpoints.includes(h)) {
      await pruner.idle();
      samples.push({ blocks: h, bytes: databaseBytes(dir), buckets: await db.bucketBytes() });
    }
  }
  await pruner.idle();
  const msPerBlock = (performance.now() - started) / blocks;
  await db.compact();
  const compacted = databaseBytes(dir);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return { samples, msPerBlock, compacted, pruner: pruner.totals };
}

const MiB = 2 ** 20;
const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
const wall = performance.now();

console.log(
  `\nstorage bench${QUICK ? " (BENCH_QUICK)" : ""}: ${ACCOUNTS} accounts, ${TXS_PER_BLOCK} transfers a block, one validator, no network`,
);
const archive = await run(ARCHIVE, ARCHIVE_BLOCKS, [1000, ARCHIVE_BLOCKS]);
const pruned = await run(PRUNED, BLOCKS, CHECKPOINTS);
const bounded = await run(HEADERS_PRUNED, BLOCKS, CHECKPOINTS);

const first = pruned.samples[0]!;
const last = pruned.samples[pruned.samples.length - 1]!;
const factor = last.bytes / first.bytes;
/** Headers, certificates and the block-hash index: kept for light clients whatever the settings. */
const history = (x: Sample) => x.buckets.headers + x.buckets.certs + x.buckets.hashes;
// What pruning bounds: the rest (state, stale lists, recent bodies, indexes, LevelDB's log).
const boundedFactor = (last.bytes - history(last)) / (first.bytes - history(first));
const historyPerBlock = (history(last) - history(first)) / (last.blocks - first.blocks);
const printSamples = (samples: readonly Sample[]) => {
  for (const s of samples) {
    const b = s.buckets;
    const kept = b.headers + b.certs + b.hashes;
    console.log(
      `  ${String(s.blocks).padStart(6)} blocks: ${mib(s.bytes).padStart(9)}  (LevelDB estimate: state ${mib(b.state)}, stale lists ${mib(b.stale)}, bodies ${mib(b.blocks)}, txs ${mib(b.txs)}, headers+certs+hashes ${mib(kept)})`,
    );
  }
};
console.log(
  `pruned, every header kept (keepRecent ${PRUNED.keepRecent}, retainBlocks ${PRUNED.retainBlocks}):`,
);
printSamples(pruned.samples);
console.log(
  `  factor ${last.blocks} ÷ ${first.blocks} blocks, all of it: ×${factor.toFixed(2)}, ratio to the ×${TARGET_FACTOR} limit ${(factor / TARGET_FACTOR).toFixed(2)} (holds if ≤ 1); without the headers and certificates (${(historyPerBlock / 1024).toFixed(2)} KiB a block): ×${boundedFactor.toFixed(2)}, ratio ${(boundedFactor / TARGET_FACTOR).toFixed(2)}`,
);
const b0 = bounded.samples[0]!;
const b1 = bounded.samples[bounded.samples.length - 1]!;
const headersFactor = b1.bytes / b0.bytes;
console.log(`pruned, retainHeaders ${HEADERS_PRUNED.retainHeaders} too:`);
printSamples(bounded.samples);
console.log(
  `  factor ${b1.blocks} ÷ ${b0.blocks} blocks, all of it: ×${headersFactor.toFixed(2)}, ratio to the ×${TARGET_FACTOR} limit ${(headersFactor / TARGET_FACTOR).toFixed(2)} (holds if ≤ 1); dropped ${bounded.pruner.headersDropped} headers; after compactRange ${mib(bounded.compacted)}`,
);
console.log(
  `  after compactRange: ${mib(pruned.compacted)} (${((100 * pruned.compacted) / last.bytes).toFixed(0)}% of before: what an automatic compaction would give back); deleted ${pruned.pruner.nodesDeleted} state nodes, dropped ${pruned.pruner.blocksDropped} bodies`,
);
const a0 = archive.samples[0]!;
const a1 = archive.samples[archive.samples.length - 1]!;
console.log(
  `archive (no pruning): ${mib(a0.bytes)} at ${a0.blocks} blocks, ${mib(a1.bytes)} at ${a1.blocks}: ×${(a1.bytes / a0.bytes).toFixed(2)} and growing (${((a1.bytes - a0.bytes) / (a1.blocks - a0.blocks) / 1024).toFixed(2)} KiB a block)`,
);
console.log(
  `commit cost: ${pruned.msPerBlock.toFixed(3)} ms a block with pruning, ${archive.msPerBlock.toFixed(3)} without: ratio ${(pruned.msPerBlock / archive.msPerBlock).toFixed(2)} (same run; a shared machine is noisy)`,
);
const seconds = (performance.now() - wall) / 1000;
console.log(`storage bench took ${seconds.toFixed(0)} s`);

mkdirSync(new URL("./out/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./out/storage.json", import.meta.url),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      quick: QUICK,
      seconds,
      accounts: ACCOUNTS,
      txsPerBlock: TXS_PER_BLOCK,
      retention: PRUNED,
      pruned: pruned.samples,
      archive: archive.samples,
      factor,
      boundedFactor,
      retainHeaders: {
        retention: HEADERS_PRUNED,
        samples: bounded.samples,
        factor: headersFactor,
        compactedBytes: bounded.compacted,
      },
      historyPerBlock,
      targetFactor: TARGET_FACTOR,
      compactedBytes: pruned.compacted,
      msPerBlock: { pruned: pruned.msPerBlock, archive: archive.msPerBlock },
    },
    null,
    2,
  ),
);
