/**
 * Protocol benchmark for @edgeledger/sdk/protocol (run from client-sdk after a build:
 * `node bench/protocol.bench.ts`; BENCH_QUICK=1 for a few-second smoke run).
 *
 * Measures, as operations per second over a fixed time window after a short warm-up:
 *   1. Ed25519 verification per backend (native/OpenSSL, noble, WebCrypto), on one core and on
 *      all cores (one worker thread per core);
 *   2. encoding/decoding of a signed transfer and of a block header, and the transaction hash;
 *   3. the sparse Merkle state tree at growing sizes: build, single-key and batched updates,
 *      and proofs (prove + verify), with native SHA-256 (plus one figure with portable SHA-256).
 *
 * Every figure is also given as a ratio to native single-core verification, measured in the
 * same run. Each transaction's signature must be verified before anything else is done with it,
 * and native verification is the fastest way this runtime has, so it is the reference limit on
 * per-transaction throughput: work done per transaction (decoding, hashing, a state update, a
 * proof) should stay well above it (ratio >> 1) so that verification, not the rest of the
 * protocol code, remains the bottleneck.
 *
 * BENCH_ONLY=tree runs only section 3 (and the reference it is divided by).
 *
 * Prints a table to stdout (progress to stderr) and writes bench/out/protocol.json.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { Worker } from "node:worker_threads";
import {
  accountKey,
  type BlockHeader,
  decodeAccount,
  decodeBlockHeader,
  decodeSignedTransaction,
  encodeAccount,
  encodeBlockHeader,
  encodeSignedTransaction,
  MemoryNodeStore,
  SecretKey,
  type SignedTransaction,
  SparseMerkleTree,
  setSha256Backend,
  transactionHash,
  verifyAccountProof,
} from "@edgeledger/sdk/protocol";
import { nativeSha256, nativeSigner, useNativeSha256 } from "@edgeledger/sdk/protocol/node";
import {
  measure,
  type Rate,
  type SignedSample,
  type VerifyBackendName,
  type VerifyJob,
  verifyWorkload,
  type WorkerMessage,
  type Workload,
} from "./verifyWorker.ts";

const { BENCH_QUICK, BENCH_ONLY } = process.env;
const QUICK = BENCH_QUICK === "1";
/** BENCH_ONLY=tree runs the state tree section alone (plus the native verify reference). */
const ONLY_TREE = BENCH_ONLY === "tree";
const WARMUP_MS = QUICK ? 30 : 300;
const WINDOW_MS = QUICK ? 150 : 1500;
const POOL_SIZE = 64;
const WEBCRYPTO_IN_FLIGHT = 64;
const TREE_SIZES = QUICK ? [1_000, 10_000] : [10_000, 100_000, 1_000_000];
/** The tree size that also gets a figure with the portable (noble) SHA-256. */
const PORTABLE_SHA_SIZE = 10_000;
const UPDATE_BATCH = 1000;
const CHAIN_ID = "bench-chain";
const OUT_FILE = new URL("./out/protocol.json", import.meta.url);

type Extra = Readonly<Record<string, number | string | readonly number[]>>;

interface Measurement {
  readonly name: string;
  readonly opsPerSec: number;
  /** Shown in the table's last column. */
  readonly note: string;
  /** Extra fields for the JSON output. */
  readonly extra: Extra;
}

const results: Measurement[] = [];
const skipped: string[] = [];

function record(name: string, opsPerSec: number, note = "", extra: Extra = {}): void {
  results.push({ name, opsPerSec, note, extra });
  process.stderr.write(`  ${name}: ${formatRate(opsPerSec)} ops/s ${note}\n`);
}

function perSecond(rate: Rate): number {
  return rate.ops / rate.seconds;
}

// Full collections before memory figures and tree windows. The flag is set at runtime because
// the bench is run as plain `node bench/protocol.bench.ts`.
v8.setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

function mb(bytes: number): number {
  return Math.round(bytes / 2 ** 20);
}

function signedMb(bytes: number): string {
  const value = mb(bytes);
  return value < 0 ? `${value}` : `+${value}`;
}

function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

// ---------------------------------------------------------------------------------------------
// Fixtures: signed transfers from distinct keys, and block headers.

interface Fixtures {
  readonly samples: readonly SignedSample[];
  readonly transactions: readonly SignedTransaction[];
  readonly headers: readonly BlockHeader[];
}

function makeFixtures(): Fixtures {
  const samples: SignedSample[] = [];
  const transactions: SignedTransaction[] = [];
  const headers: BlockHeader[] = [];
  for (let i = 0; i < POOL_SIZE; i++) {
    const key = SecretKey.generate();
    const signer = nativeSigner(key);
    const tx = {
      chainId: CHAIN_ID,
      from: key.publicKey,
      nonce: i,
      expiresAt: Date.now() + 3_600_000,
      body: { kind: "transfer", to: randomBytes(20), amount: 10n ** 18n + BigInt(i) },
    } as const;
    // slice(): plain, unshared buffers, cheap to post to workers.
    const message = transactionHash(tx).slice();
    const signature = signer.signSync(message);
    samples.push({ publicKey: key.publicKey.slice(), message, signature });
    transactions.push({ tx, signature });
    headers.push({
      chainId: CHAIN_ID,
      height: 1_000_000 + i,
      time: Date.now() + i,
      parentHash: randomBytes(32),
      txRoot: randomBytes(32),
      txCount: 500 + i,
      evidenceRoot: randomBytes(32),
      stateRoot: randomBytes(32),
      validatorsHash: randomBytes(32),
      nextValidatorsHash: randomBytes(32),
      proposer: key.publicKey,
    });
  }
  return { samples, transactions, headers };
}

// ---------------------------------------------------------------------------------------------
// 1. Signature verification.

const BACKEND_LABEL: Readonly<Record<VerifyBackendName, string>> = {
  native: "native verifySync",
  noble: "noble verifySync",
  webcrypto: `webcrypto verify (${WEBCRYPTO_IN_FLIGHT} in flight)`,
};

async function verifySingleCore(
  backend: VerifyBackendName,
  pool: readonly SignedSample[],
): Promise<number> {
  const work = verifyWorkload(backend, pool, WEBCRYPTO_IN_FLIGHT);
  return perSecond(await measure(work, WARMUP_MS, WINDOW_MS));
}

function nextMessage(worker: Worker): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    const onMessage = (message: WorkerMessage): void => {
      cleanup();
      resolve(message);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`verify worker exited early (code ${code})`));
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}

/** One worker per core, all measuring the same window; returns each worker's rate. */
async function verifyAllCores(
  backend: VerifyBackendName,
  pool: readonly SignedSample[],
): Promise<number[]> {
  const job: VerifyJob = {
    backend,
    pool,
    inFlight: WEBCRYPTO_IN_FLIGHT,
    warmupMs: WARMUP_MS,
    windowMs: WINDOW_MS,
  };
  const url = new URL("./verifyWorker.ts", import.meta.url);
  const workers = Array.from(
    { length: os.availableParallelism() },
    () => new Worker(url, { workerData: job }),
  );
  try {
    await Promise.all(workers.map(nextMessage));
    const reports = workers.map(nextMessage);
    for (const worker of workers) worker.postMessage("go");
    return (await Promise.all(reports)).map((report) => {
      if (report.type !== "done") throw new Error(`unexpected worker message ${report.type}`);
      return report.ops / report.seconds;
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Returns the native single-core rate, the reference for every ratio. */
async function benchVerification(pool: readonly SignedSample[]): Promise<number> {
  process.stderr.write("signature verification, main thread\n");
  const single = new Map<VerifyBackendName, number>();
  for (const backend of ["native", "noble", "webcrypto"] as const) {
    // WebCrypto in Node verifies on the libuv thread pool, so its "1 core" can use more.
    const note = backend === "webcrypto" ? "main thread; work runs on the libuv pool" : "";
    single.set(backend, await verifySingleCore(backend, pool));
    record(`verify ${BACKEND_LABEL[backend]}, 1 core`, single.get(backend)!, note);
  }
  const oneAtATime = verifyWorkload("webcrypto", pool, 1);
  record(
    "verify webcrypto verify (1 in flight), 1 core",
    perSecond(await measure(oneAtATime, WARMUP_MS, WINDOW_MS)),
    "latency-bound",
  );

  const cores = os.availableParallelism();
  process.stderr.write(`signature verification, all cores (${cores} worker threads)\n`);
  for (const backend of ["native", "noble", "webcrypto"] as const) {
    const perWorker = (await verifyAllCores(backend, pool)).map(Math.round);
    const total = perWorker.reduce((a, b) => a + b, 0);
    record(
      `verify ${BACKEND_LABEL[backend]}, ${cores} workers`,
      total,
      `per worker: ${perWorker.map(formatRate).join(" + ")}`,
      { workers: cores, perWorkerOpsPerSec: perWorker },
    );
  }
  return single.get("native")!;
}

// ---------------------------------------------------------------------------------------------
// 2. Encoding, decoding and hashing.

async function benchCodec(fixtures: Fixtures): Promise<void> {
  process.stderr.write("encoding and hashing\n");
  const { transactions, headers } = fixtures;
  const txBytes = transactions.map(encodeSignedTransaction);
  const headerBytes = headers.map(encodeBlockHeader);
  const txSize = txBytes[0]!.length;
  const headerSize = headerBytes[0]!.length;
  const cases: readonly { name: string; work: Workload; bytes?: number }[] = [
    {
      name: "encodeSignedTransaction (transfer)",
      bytes: txSize,
      work: sync((i) => {
        const bytes = encodeSignedTransaction(transactions[i % POOL_SIZE]!);
        if (bytes.length !== txSize) throw new Error("transfer size changed");
      }),
    },
    {
      name: "decodeSignedTransaction (transfer)",
      bytes: txSize,
      work: sync((i) => {
        const stx = decodeSignedTransaction(txBytes[i % POOL_SIZE]!);
        if (stx.tx.nonce !== i % POOL_SIZE) throw new Error("transfer round trip");
      }),
    },
    {
      // A fresh object each time: transactionHash is memoized per object, and
      // a repeat would time a WeakMap lookup, not encoding and hashing.
      name: "transactionHash (transfer, not memoized)",
      work: sync((i) => {
        const tx = { ...transactions[i % POOL_SIZE]!.tx };
        if (transactionHash(tx).length !== 32) throw new Error("hash");
      }),
    },
    {
      name: "transactionHash (transfer, decoded: bytes memoized)",
      work: sync((i) => {
        const { tx } = decodeSignedTransaction(txBytes[i % POOL_SIZE]!);
        if (transactionHash(tx).length !== 32) throw new Error("hash");
      }),
    },
    {
      name: "encodeBlockHeader",
      bytes: headerSize,
      work: sync((i) => {
        const bytes = encodeBlockHeader(headers[i % POOL_SIZE]!);
        if (bytes.length !== headerSize) throw new Error("header size changed");
      }),
    },
    {
      name: "decodeBlockHeader",
      bytes: headerSize,
      work: sync((i) => {
        const header = decodeBlockHeader(headerBytes[i % POOL_SIZE]!);
        if (header.height !== headers[i % POOL_SIZE]!.height) throw new Error("header round trip");
      }),
    },
  ];
  for (const { name, work, bytes } of cases) {
    const rate = perSecond(await measure(work, WARMUP_MS, WINDOW_MS));
    if (bytes === undefined) record(name, rate);
    else record(name, rate, `${bytes} bytes`, { bytes });
  }
}

function sync(op: (i: number) => void): Workload {
  return { kind: "sync", op };
}

function sequential(op: (i: number) => Promise<void>): Workload {
  return { kind: "async", op, concurrency: 1 };
}

// ---------------------------------------------------------------------------------------------
// 3. The state tree.

/** Distinct random indices in 0..n-1, `count` at a time (a partial Fisher-Yates shuffle). */
function distinctIndices(n: number): (count: number) => Uint32Array {
  const perm = Uint32Array.from({ length: n }, (_, i) => i);
  return (count) => {
    for (let j = 0; j < count; j++) {
      const k = j + randomIndex(n - j);
      const t = perm[j]!;
      perm[j] = perm[k]!;
      perm[k] = t;
    }
    return perm.slice(0, count);
  };
}

/** Returns the memory the built tree took per account, to size the next run. */
async function benchStateTree(n: number): Promise<number> {
  process.stderr.write(`state tree, ${n.toLocaleString("en-US")} accounts\n`);
  useNativeSha256();
  // Addresses and keys packed in two buffers, views made on demand: 10^6 separate key
  // objects would be the harness's heap, not the tree's, and every GC would mark them.
  const raw = randomBytes(20 * n);
  const addressAt = (i: number): Uint8Array => raw.subarray(20 * i, 20 * i + 20);
  const packedKeys = new Uint8Array(32 * n);
  for (let i = 0; i < n; i++) packedKeys.set(accountKey(addressAt(i)), 32 * i);
  const keyAt = (i: number): Uint8Array => packedKeys.subarray(32 * i, 32 * i + 32);
  const entries = Array.from(
    { length: n },
    (_, i) => [keyAt(i), encodeAccount({ balance: 1_000_000n + BigInt(i), nonce: 0 })] as const,
  );
  // New values for updates: distinct balances, so every update changes the leaf.
  const newValues = Array.from({ length: 4096 }, (_, i) =>
    encodeAccount({ balance: 7n * BigInt(i) + 3n, nonce: 1 + (i % 100) }),
  );
  const newValue = (i: number): Uint8Array => newValues[i % newValues.length]!;

  collectGarbage();
  const heapBefore = process.memoryUsage();
  const store = new MemoryNodeStore();
  const built = buildTree(entries, store);
  const storeBytes = store.bytes;
  let { root } = built;
  entries.length = 0;
  collectGarbage();
  const heapAfter = process.memoryUsage();
  const heapUsedDelta = heapAfter.heapUsed - heapBefore.heapUsed;
  const arrayBuffersDelta = heapAfter.arrayBuffers - heapBefore.arrayBuffers;
  record(
    `tree ${label(n)}: build + store.write (accounts/s)`,
    n / ((built.buildMs + built.writeMs) / 1000),
    `build ${Math.round(built.buildMs)} ms + write ${Math.round(built.writeMs)} ms; ` +
      `heapUsed ${mb(heapAfter.heapUsed)} MB (${signedMb(heapUsedDelta)} MB, ` +
      `${signedMb(arrayBuffersDelta)} MB arrayBuffers; store ${mb(storeBytes)} MB)`,
    {
      accounts: n,
      buildMs: Math.round(built.buildMs),
      storeWriteMs: Math.round(built.writeMs),
      nodes: built.nodes,
      heapUsedMB: mb(heapAfter.heapUsed),
      heapUsedDeltaMB: mb(heapUsedDelta),
      arrayBuffersDeltaMB: mb(arrayBuffersDelta),
      storeMB: mb(storeBytes),
      storeBytesPerNode: Math.round(storeBytes / built.nodes),
      rssMB: mb(heapAfter.rss),
    },
  );

  const tree = new SparseMerkleTree(store);
  const singleUpdates = sequential(async (i) => {
    const update = await tree.update(root, [[keyAt(randomIndex(n)), newValue(i)]]);
    store.write(update.writes);
    root = update.root;
  });
  const storeNote = (): string => `store then holds ${store.size.toLocaleString("en-US")} nodes`;
  record(
    `tree ${label(n)}: single-key update + store.write`,
    perSecond(await measureTree(singleUpdates)),
    storeNote(),
  );

  if (n === PORTABLE_SHA_SIZE) {
    setSha256Backend(null);
    record(
      `tree ${label(n)}: single-key update, portable sha256`,
      perSecond(await measureTree(singleUpdates)),
      `setSha256Backend(null); ${storeNote()}`,
    );
    useNativeSha256();
  }

  const batchSize = Math.min(UPDATE_BATCH, n);
  const pick = distinctIndices(n);
  let batchNumber = 0;
  const batchUpdate = async (): Promise<void> => {
    const i = batchNumber++;
    const changes = Array.from(
      pick(batchSize),
      (k, j) => [keyAt(k), newValue(i * batchSize + j)] as const,
    );
    const update = await tree.update(root, changes);
    store.write(update.writes);
    root = update.root;
  };
  const hashesPerKey =
    (await countHashes(batchUpdate, HASH_COUNT_BATCHES)) / (HASH_COUNT_BATCHES * batchSize);
  // The limit: what native SHA-256 alone allows for the hashes a batch needs (measured around
  // the step, the higher kept, so that a machine that slows down cannot push the ratio up).
  const shaBefore = await nativeSha256Rate();
  const batches = await measureTree(sequential(batchUpdate));
  const shaRate = Math.max(shaBefore, await nativeSha256Rate());
  const keysPerSec = (batches.ops * batchSize) / batches.seconds;
  const bound = shaRate / hashesPerKey;
  record(
    `tree ${label(n)}: batched update (keys/s)`,
    keysPerSec,
    `${perSecond(batches).toFixed(1)} batches of ${batchSize}/s; ÷ SHA-256 bound ` +
      `${formatRatio(keysPerSec / bound)} (${formatRate(bound)} keys/s = ${formatRate(shaRate)} ` +
      `hashes/s ÷ ${hashesPerKey.toFixed(2)} per key); ${storeNote()}`,
    {
      batchSize,
      batchesPerSec: perSecond(batches),
      hashesPerKey: Number(hashesPerKey.toFixed(3)),
      nativeSha256PerSec: Math.round(shaRate),
      sha256BoundKeysPerSec: Math.round(bound),
      ratioToSha256Bound: Number((keysPerSec / bound).toPrecision(4)),
    },
  );
  treeSummary.push({
    n,
    keysPerSec,
    bound,
    hashesPerKey,
    storeBytesPerNode: storeBytes / built.nodes,
  });

  const proofs = sequential(async () => {
    const k = randomIndex(n);
    const { value, proof } = await tree.prove(root, keyAt(k));
    if (value === null) throw new Error("an existing account proved absent");
    verifyAccountProof(root, addressAt(k), decodeAccount(value), proof);
  });
  record(`tree ${label(n)}: prove + verifyAccountProof`, perSecond(await measureTree(proofs)));
  return (heapUsedDelta + arrayBuffersDelta) / n;
}

/** Batches run with a counting SHA-256 backend, not timed: how many hashes one batch needs. */
async function countHashes(batch: () => Promise<void>, batches: number): Promise<number> {
  let hashes = 0;
  setSha256Backend((data) => {
    hashes++;
    return nativeSha256(data);
  });
  try {
    for (let i = 0; i < batches; i++) await batch();
  } finally {
    useNativeSha256();
  }
  return hashes;
}

/** Native SHA-256 of 65-byte inputs (an internal node's or a leaf's) per second, one core. */
async function nativeSha256Rate(): Promise<number> {
  const input = new Uint8Array(65);
  const work = sync((i) => {
    input[1] = i & 0xff;
    if (nativeSha256(input).length !== 32) throw new Error("sha256");
  });
  return perSecond(await measure(work, WARMUP_MS, WINDOW_MS));
}

interface TreeSummaryRow {
  readonly n: number;
  readonly keysPerSec: number;
  readonly bound: number;
  readonly hashesPerKey: number;
  readonly storeBytesPerNode: number;
}
const treeSummary: TreeSummaryRow[] = [];
const HASH_COUNT_BATCHES = 3;

function printTreeSummary(): void {
  if (treeSummary.length === 0) return;
  console.log(
    `\nstate tree, batched updates of ${UPDATE_BATCH} keys (target at 10^6: ≥ 25k keys/s, ` +
      `≥ 0.5 of the native SHA-256 bound)\n`,
  );
  console.log("accounts  keys/s   hashes/key  SHA-256 bound  ratio  store bytes/node");
  for (const r of treeSummary) {
    console.log(
      `${label(r.n).padEnd(8)}  ${formatRate(r.keysPerSec).padStart(7)}  ` +
        `${r.hashesPerKey.toFixed(2).padStart(10)}  ${formatRate(r.bound).padStart(13)}  ` +
        `${formatRatio(r.keysPerSec / r.bound).padStart(5)}  ${Math.round(r.storeBytesPerNode).toString().padStart(16)}`,
    );
  }
}

/** Builds and stores the initial tree; the build's writes are garbage once this returns. */
function buildTree(
  entries: readonly (readonly [Uint8Array, Uint8Array])[],
  store: MemoryNodeStore,
): { root: Uint8Array; nodes: number; buildMs: number; writeMs: number } {
  const t0 = performance.now();
  const { root, writes } = SparseMerkleTree.build(entries);
  const t1 = performance.now();
  store.write(writes);
  return { root, nodes: writes.length, buildMs: t1 - t0, writeMs: performance.now() - t1 };
}

/** `measure` after a full collection, so no window pays for the previous one's garbage. */
async function measureTree(work: Workload): Promise<Rate> {
  collectGarbage();
  return measure(work, WARMUP_MS, WINDOW_MS);
}

function label(n: number): string {
  return `10^${Math.round(Math.log10(n))}`;
}

// ---------------------------------------------------------------------------------------------
// Output.

function formatRate(opsPerSec: number): string {
  if (opsPerSec >= 100) return Math.round(opsPerSec).toLocaleString("en-US");
  return opsPerSec.toPrecision(3);
}

function formatRatio(ratio: number): string {
  return ratio >= 100 ? ratio.toFixed(0) : ratio.toPrecision(3);
}

function printTable(rows: readonly Measurement[], reference: number): void {
  const header = ["item", "ops/s", "ratio", "notes"] as const;
  const cells = rows.map((r) => [
    r.name,
    formatRate(r.opsPerSec),
    formatRatio(r.opsPerSec / reference),
    r.note,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, c) => (c === 1 || c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of cells) console.log(line(row));
}

async function main(): Promise<void> {
  const started = performance.now();
  useNativeSha256();
  const cpus = os.availableParallelism();
  process.stderr.write(
    `protocol bench${QUICK ? " (quick)" : ""}: node ${process.version}, ${cpus} cpus\n`,
  );
  const fixtures = makeFixtures();

  let reference: number;
  if (ONLY_TREE) {
    reference = await verifySingleCore("native", fixtures.samples);
    record("verify native verifySync, 1 core", reference, "the reference");
  } else {
    reference = await benchVerification(fixtures.samples);
    await benchCodec(fixtures);
  }
  let bytesPerAccount = 0;
  for (const n of TREE_SIZES) {
    const limit = v8.getHeapStatistics().heap_size_limit;
    const need = process.memoryUsage().heapUsed + 1.5 * bytesPerAccount * n;
    if (need > limit) {
      skipped.push(
        `tree ${label(n)} skipped: needs ~${mb(need)} MB of heap, the limit is ${mb(limit)} MB ` +
          `(raise it with NODE_OPTIONS=--max-old-space-size=${Math.ceil(mb(need) / 1024) * 1024})`,
      );
      process.stderr.write(`${skipped[skipped.length - 1]}\n`);
      continue;
    }
    bytesPerAccount = await benchStateTree(n);
    collectGarbage();
  }

  const seconds = (performance.now() - started) / 1000;
  console.log(
    `\nprotocol bench${QUICK ? " (BENCH_QUICK)" : ""}: node ${process.version}, ` +
      `${cpus} cpus (${os.cpus()[0]?.model ?? "unknown"}), ${seconds.toFixed(0)} s; ` +
      `ratio = ops/s / native single-core verify (${formatRate(reference)}/s)\n`,
  );
  printTable(results, reference);
  printTreeSummary();
  for (const line of skipped) console.log(line);

  const report = {
    date: new Date().toISOString(),
    nodeVersion: process.version,
    cpus,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    quick: QUICK,
    windowMs: WINDOW_MS,
    warmupMs: WARMUP_MS,
    referenceNativeVerifyOpsPerSec: Math.round(reference),
    skipped,
    results: results.map((r) => ({
      name: r.name,
      opsPerSec: Math.round(r.opsPerSec * 10) / 10,
      ratioToNativeVerify: Number((r.opsPerSec / reference).toPrecision(4)),
      ...r.extra,
    })),
  };
  mkdirSync(new URL(".", OUT_FILE), { recursive: true });
  writeFileSync(OUT_FILE, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${OUT_FILE.pathname}`);
}

await main();
