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
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
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
import { defaultPrunerOptions, Pruner, type PrunerOptions } from "../src/db/pruner.ts";
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
  /** The files by kind: LevelDB's write-ahead log (the memtable's), its tables, the rest. */
  files: { log: number; tables: number; other: number };
  buckets: Record<BucketName, number>;
  /** What the records take (keys and values): the live data, without LevelDB's garbage. */
  live: number;
}

function filesByKind(dir: string): Sample["files"] {
  const files = { log: 0, tables: 0, other: 0 };
  for (const f of readdirSync(dir)) {
    const size = statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0;
    if (f.endsWith(".log") && f !== "LOG") files.log += size;
    else if (f.endsWith(".ldb") || f.endsWith(".sst")) files.tables += size;
    else files.other += size;
  }
  return files;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** Blocks between two looks at the files' size for the peak (not waiting for the pruner: what a scrape would see). */
const PEAK_EVERY = 100;

interface Run {
  samples: Sample[];
  /** The largest size seen after 1000 blocks, and where. */
  peak: { bytes: number; blocks: number };
  /** The largest size seen in the first 1000 blocks, and in the last 1000 (a compaction cycle is shorter). */
  window: { first: number; last: number };
  msPerBlock: number;
  /** After an explicit compactRange at the end. */
  compacted: number;
  pruner: Pruner["totals"];
  /** Seconds the pruner's compactions took, in all. */
  compactionSeconds: number;
}

async function run(
  retention: RetentionOptions,
  blocks: number,
  checkpoints: readonly number[],
  prunerOptions: Partial<PrunerOptions> = {},
): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "storage-bench-"));
  const db = new Database(dir, { retention });
  await db.open();
  const chain = new Chain(db, genesis);
  await chain.init();
  let compactionSeconds = 0;
  const pruner = new Pruner(db, prunerOptions, {
    onCompaction: (c) => {
      compactionSeconds += c.seconds;
    },
  });
  const peak = { bytes: 0, blocks: 0 };
  const window = { first: 0, last: 0 };
  let sampling = 0;
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
    if (h % PEAK_EVERY === 0) {
      const bytes = databaseBytes(dir);
      if (h >= 1000 && bytes > peak.bytes) Object.assign(peak, { bytes, blocks: h });
      if (h <= 1000) window.first = Math.max(window.first, bytes);
      if (h > blocks - 1000) window.last = Math.max(window.last, bytes);
    }
    if (checkpoints.includes(h)) {
      const t = performance.now();
      await pruner.idle();
      samples.push({
        blocks: h,
        bytes: databaseBytes(dir),
        files: filesByKind(dir),
        buckets: await db.bucketBytes(),
        live: sum(await db.bucketLiveBytes()),
      });
      sampling += performance.now() - t;
    }
  }
  await pruner.idle();
  const msPerBlock = (performance.now() - started - sampling) / blocks;
  await pruner.stop();
  await db.compact();
  const compacted = databaseBytes(dir);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    samples,
    peak,
    window,
    msPerBlock,
    compacted,
    pruner: pruner.totals,
    compactionSeconds,
  };
}

const MiB = 2 ** 20;
const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
const wall = performance.now();
const { compactGrowthPercent, compactMinBytes } = defaultPrunerOptions;

console.log(
  `\nstorage bench${QUICK ? " (BENCH_QUICK)" : ""}: ${ACCOUNTS} accounts, ${TXS_PER_BLOCK} transfers a block, one validator, no network; automatic compaction at +${compactGrowthPercent}% and +${mib(compactMinBytes)} (the default) unless said`,
);
const archive = await run(ARCHIVE, ARCHIVE_BLOCKS, [1000, ARCHIVE_BLOCKS]);
const pruned = await run(PRUNED, BLOCKS, CHECKPOINTS);
const bounded = await run(HEADERS_PRUNED, BLOCKS, CHECKPOINTS);
// The same without the automatic compaction: LevelDB's own compactions alone, as before it existed.
const uncompacted = await run(HEADERS_PRUNED, BLOCKS, CHECKPOINTS, { compactGrowthPercent: 0 });

/** Headers, certificates and the block-hash index: kept for light clients unless retainHeaders. */
const history = (x: Sample) => x.buckets.headers + x.buckets.certs + x.buckets.hashes;
const printSamples = (samples: readonly Sample[]) => {
  for (const s of samples) {
    const b = s.buckets;
    console.log(
      `  ${String(s.blocks).padStart(6)} blocks: ${mib(s.bytes).padStart(9)}  (records ${mib(s.live)}; files: log ${mib(s.files.log)}, tables ${mib(s.files.tables)}, LOG+MANIFEST+… ${mib(s.files.other)}; LevelDB's estimate: state ${mib(b.state)}, stale lists ${mib(b.stale)}, bodies ${mib(b.blocks)}, txs ${mib(b.txs)}, headers+certs+hashes ${mib(history(s))})`,
    );
  }
};
const ratio = (factor: number) =>
  `×${factor.toFixed(2)}, ratio to the ×${TARGET_FACTOR} limit ${(factor / TARGET_FACTOR).toFixed(2)} (holds if ≤ 1)`;
/** The factors of a run: last ÷ first checkpoint, the peak after 1000 blocks ÷ the first, the records'. */
function factors(r: Run) {
  const first = r.samples[0]!;
  const last = r.samples[r.samples.length - 1]!;
  return {
    first,
    last,
    factor: last.bytes / first.bytes,
    peakFactor: r.peak.bytes / first.bytes,
    windowFactor: r.window.last / r.window.first,
    liveFactor: last.live / first.live,
  };
}
function printRun(title: string, r: Run): ReturnType<typeof factors> {
  const f = factors(r);
  console.log(title);
  printSamples(r.samples);
  console.log(
    `  factor ${f.last.blocks} ÷ ${f.first.blocks} blocks: ${ratio(f.factor)}; the peak (${mib(r.peak.bytes)} at ${r.peak.blocks}, looked at every ${PEAK_EVERY} blocks) ÷ ${f.first.blocks} blocks: ${ratio(f.peakFactor)}; the records: ×${f.liveFactor.toFixed(2)}`,
  );
  console.log(
    `  the largest size in the last 1000 blocks (${mib(r.window.last)}) ÷ in the first 1000 (${mib(r.window.first)}): ${ratio(f.windowFactor)}`,
  );
  console.log(
    `  ${r.pruner.compactions} automatic compactions (${r.compactionSeconds.toFixed(1)} s in all, beside the commits); after a compactRange at the end ${mib(r.compacted)}; deleted ${r.pruner.nodesDeleted} state nodes, dropped ${r.pruner.blocksDropped} bodies, ${r.pruner.headersDropped} headers`,
  );
  return f;
}

const p = printRun(
  `pruned, every header kept (keepRecent ${PRUNED.keepRecent}, retainBlocks ${PRUNED.retainBlocks}; headers grow by design):`,
  pruned,
);
const historyPerBlock = (history(p.last) - history(p.first)) / (p.last.blocks - p.first.blocks);
const boundedFactor = (p.last.bytes - history(p.last)) / (p.first.bytes - history(p.first));
console.log(
  `  without the headers and certificates (${(historyPerBlock / 1024).toFixed(2)} KiB a block): ${ratio(boundedFactor)}`,
);
const b = printRun(
  `pruned, retainHeaders ${HEADERS_PRUNED.retainHeaders} too (the whole disk bounded):`,
  bounded,
);
const u = printRun(
  "the same, automatic compaction off (LevelDB's own compactions only):",
  uncompacted,
);
const a0 = archive.samples[0]!;
const a1 = archive.samples[archive.samples.length - 1]!;
console.log(
  `archive (no pruning): ${mib(a0.bytes)} at ${a0.blocks} blocks, ${mib(a1.bytes)} at ${a1.blocks}: ×${(a1.bytes / a0.bytes).toFixed(2)} and growing (${((a1.bytes - a0.bytes) / (a1.blocks - a0.blocks) / 1024).toFixed(2)} KiB a block)`,
);
console.log(
  `commit cost a block: ${pruned.msPerBlock.toFixed(3)} ms pruned, ${archive.msPerBlock.toFixed(3)} archive: ratio ${(pruned.msPerBlock / archive.msPerBlock).toFixed(2)}; retainHeaders with automatic compaction ${bounded.msPerBlock.toFixed(3)} ms, without ${uncompacted.msPerBlock.toFixed(3)}: ratio ${(bounded.msPerBlock / uncompacted.msPerBlock).toFixed(2)} (same run; a shared machine is noisy)`,
);
const seconds = (performance.now() - wall) / 1000;
console.log(`storage bench took ${seconds.toFixed(0)} s`);

const summary = (r: Run, f: ReturnType<typeof factors>) => ({
  samples: r.samples,
  peak: r.peak,
  factor: f.factor,
  peakFactor: f.peakFactor,
  window: r.window,
  windowFactor: f.windowFactor,
  liveFactor: f.liveFactor,
  compactions: r.pruner.compactions,
  compactionSeconds: r.compactionSeconds,
  compactedBytes: r.compacted,
  msPerBlock: r.msPerBlock,
});
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
      compaction: { compactGrowthPercent, compactMinBytes },
      targetFactor: TARGET_FACTOR,
      retention: PRUNED,
      pruned: summary(pruned, p),
      boundedFactor,
      historyPerBlock,
      retainHeaders: { retention: HEADERS_PRUNED, ...summary(bounded, b) },
      retainHeadersWithoutCompaction: summary(uncompacted, u),
      archive: { samples: archive.samples, msPerBlock: archive.msPerBlock },
    },
    null,
    2,
  ),
);
