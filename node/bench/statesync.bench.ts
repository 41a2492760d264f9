/**
 * State sync bench (issue 15, "State sync"): an empty node joins a chain of
 * BENCH_STATESYNC_ACCOUNTS accounts (a derived genesis, default 10^6) by
 * state sync from two peers over libp2p on loopback, in one process.
 *
 * The chain is built by driving Chain and Database directly (no consensus,
 * no signature checks), BENCH_STATESYNC_BLOCKS blocks (default 1000) of
 * BENCH_STATESYNC_TXS transfers (default 20) into the derived accounts,
 * then a snapshot at the last height. The 10^5 blocks are
 * BENCH_STATESYNC_BLOCKS=100000: building costs about a millisecond a block
 * here (minutes), which is why it is not the default; state sync does not
 * read the blocks: it moves the state at one height, whatever the history's
 * length (the history's effect is the state's size, set by the accounts,
 * and the source database's, which keeps every version).
 *
 * The serving side writes the snapshot's chunks once after taking it
 * (statesync/snapshots.ts); that pass is timed apart, before the join.
 *
 * Prints the join's time (list, header, manifest, every chunk verified and
 * written) and the CPU it took over all threads (the machine is shared:
 * wall time under load is not the work), chunks, bytes, and the ratio to a limit measured in this run:
 * the time to hash every node the join wrote at native SHA-256 speed (one
 * 65-byte hash per node), the least work any verified sync must do. Target:
 * join < 60 s. Chain.init afterwards is timed too (the join recorded the
 * genesis header, so it reads it back instead of building 10^6 accounts).
 *
 * Run: node bench/statesync.bench.ts (npm run bench runs it); BENCH_QUICK=1
 * for 10^5 accounts. Writes bench/out/statesync.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import {
  addressFromPublicKey,
  blockHash,
  encodeSignedTransaction,
  SecretKey,
  sha256,
  transactionHash,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier, useNativeSha256 } from "@edgeledger/sdk/protocol/node";
import { pino } from "pino";
import { Chain } from "../src/chain/chain.ts";
import { derivedAddress, type Genesis } from "../src/chain/genesis.ts";
import { databaseBytes } from "../src/db/compact.ts";
import { Database } from "../src/db/database.ts";
import type { PendingTx } from "../src/mempool/mempool.ts";
import { createHost, newPeerKey } from "../src/network/host.ts";
import { joinByStateSync } from "../src/statesync/join.ts";
import { StateSyncServer } from "../src/statesync/protocol.ts";
import { Snapshots } from "../src/statesync/snapshots.ts";
import { createSyncContext, defaultSyncOptions } from "../src/sync/context.ts";
import { certifyAlone } from "../src/testing/fixtures.ts";

useNativeSha256();
const QUICK = process.env["BENCH_QUICK"] === "1";
const ACCOUNTS = Number(process.env["BENCH_STATESYNC_ACCOUNTS"] ?? (QUICK ? 100_000 : 1_000_000));
const BLOCKS = Number(process.env["BENCH_STATESYNC_BLOCKS"] ?? (QUICK ? 200 : 1000));
const TXS_PER_BLOCK = Number(process.env["BENCH_STATESYNC_TXS"] ?? 20);
const TARGET_SECONDS = 60;
const NOW = 1_800_000_000_000;
const CHAIN_ID = "statesync-bench";
const log = pino({ level: "silent" });

const validator = SecretKey.fromSeed(sha256(Uint8Array.of(0x61)));
const senders = Array.from({ length: 100 }, (_, i) =>
  SecretKey.fromSeed(sha256(Uint8Array.of(0x62, i))),
);
const seed = sha256(Uint8Array.of(0x63));
const genesis: Genesis = {
  chainId: CHAIN_ID,
  time: NOW - 1000,
  validators: [{ publicKey: validator.publicKey, power: 1n }],
  accounts: senders.map((k) => ({
    address: addressFromPublicKey(k.publicKey),
    balance: 10n ** 15n,
  })),
  derivedAccounts: { seed, count: ACCOUNTS, balance: 1000n },
};

/** Native SHA-256 of 65-byte inputs (an internal node's) per second, over `ms`. */
function hashRate(ms = 1000): number {
  const input = new Uint8Array(65).fill(3);
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 1000; i++) sha256(input);
    n += 1000;
  }
  return n / ((performance.now() - t0) / 1000);
}

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "statesync-bench-"));
  dirs.push(d);
  return d;
};

const t0 = performance.now();
const sourceDir = tmp();
const source = new Database(sourceDir);
await source.open();
const chain = new Chain(source, genesis);
await chain.init();
const genesisSeconds = (performance.now() - t0) / 1000;
const signature = new Uint8Array(64); // never checked here: buildBlock leaves signatures to its caller
const nonces = senders.map(() => 0);
for (let h = 1; h <= BLOCKS; h++) {
  const txs: PendingTx[] = [];
  for (let i = 0; i < TXS_PER_BLOCK; i++) {
    const s = (h * TXS_PER_BLOCK + i) % senders.length;
    const tx = {
      chainId: CHAIN_ID,
      from: senders[s]!.publicKey,
      nonce: nonces[s]!++,
      expiresAt: NOW + 600_000,
      body: {
        kind: "transfer" as const,
        to: derivedAddress(seed, (h * 7919 + i * 104_729) % ACCOUNTS),
        amount: 1n,
      },
    };
    const stx = { tx, signature };
    txs.push({
      hash: transactionHash(tx),
      key: "",
      stx,
      bytes: encodeSignedTransaction(stx),
      sender: "",
      seq: 0,
    });
  }
  const built = await chain.buildBlock(txs, chain.nextTime(NOW), validator.publicKey);
  if (built.failed.length > 0) throw new Error(`block ${h}: ${built.failed[0]!.error.message}`);
  await chain.commit(built, certifyAlone(validator, h, built.blockHash, CHAIN_ID), {
    durable: false,
  });
}
const buildSeconds = (performance.now() - t0) / 1000;
const snapshots = new Snapshots(source, chain.tree, { interval: BLOCKS, keep: 1 });
await snapshots.onCommit(BLOCKS, chain.head.header.stateRoot);
// The serving node writes the snapshot's chunks once, in the background (snapshots.ts): timed apart.
const e0 = performance.now();
await snapshots.idle();
const exportSeconds = (performance.now() - e0) / 1000;
if (!snapshots.exported(BLOCKS)) throw new Error("the snapshot's chunks were not written");

// Two serving peers (one database: the bytes served are the same), one joining node.
const servers = [];
for (let i = 0; i < 2; i++) {
  const host = await createHost((await newPeerKey()).key, CHAIN_ID);
  const server = new StateSyncServer({
    ctx: createSyncContext(host, CHAIN_ID, defaultSyncOptions, log, undefined),
    db: source,
    tree: chain.tree,
    snapshots,
    validatorsAt: (h) => chain.validatorsAt(h),
    genesisRoot: chain.genesisHeader.stateRoot,
  });
  await server.start();
  servers.push({ host, server });
}
const joinerDir = tmp();
const joiner = new Database(joinerDir);
await joiner.open();
const host = await createHost((await newPeerKey()).key, CHAIN_ID);
for (const s of servers) await host.dial(s.host.getMultiaddrs()[0]!);
const ctx = createSyncContext(host, CHAIN_ID, defaultSyncOptions, log, undefined);
const trustHeight = Math.max(1, BLOCKS - 10);
const written = { nodes: 0 };
const putStateNodes = joiner.putStateNodes.bind(joiner);
joiner.putStateNodes = (writes, height) => {
  written.nodes += writes.length;
  return putStateNodes(writes, height);
};
const hashesPerSecondBefore = hashRate();
const j0 = performance.now();
const cpu0 = process.cpuUsage();
const result = await joinByStateSync(
  { ctx, db: joiner, verifier: createNativeVerifier(), genesis },
  {
    trust: { height: trustHeight, hash: blockHash(source.getHeader(trustHeight)!) },
    perPeer: 2,
    waitMs: 30_000,
  },
);
const joinSeconds = (performance.now() - j0) / 1000;
const cpu = process.cpuUsage(cpu0);
// Every thread of the process (both sides, LevelDB's and libuv's threads): on a busy machine the wall time is not the work.
const joinCpuSeconds = (cpu.user + cpu.system) / 1e6;
const hashesPerSecond = Math.max(hashesPerSecondBefore, hashRate());
const i0 = performance.now();
const joined = new Chain(joiner, genesis);
await joined.init();
const initSeconds = (performance.now() - i0) / 1000;
if (joined.head.height !== BLOCKS)
  throw new Error(`joined at ${joined.head.height}, not ${BLOCKS}`);
const limitSeconds = written.nodes / hashesPerSecond;

console.log(
  `state sync: ${ACCOUNTS} accounts, ${BLOCKS} blocks of ${TXS_PER_BLOCK} transfers (genesis built in ${genesisSeconds.toFixed(1)} s, chain in ${(buildSeconds - genesisSeconds).toFixed(1)} s, source database ${(databaseBytes(sourceDir) / 2 ** 20).toFixed(0)} MiB)`,
);
console.log(
  `  snapshot's chunks written by the serving node in ${exportSeconds.toFixed(1)} s (once per snapshot, before any join)`,
);
console.log(
  `  join ${joinSeconds.toFixed(2)} s (target < ${TARGET_SECONDS} s; ${joinCpuSeconds.toFixed(1)} s of CPU over all threads, load ${loadavg()[0]!.toFixed(1)}): ${result.chunks} chunks, ${(result.bytes / 2 ** 20).toFixed(1)} MiB from ${result.peers} peers, ${written.nodes} nodes written, ${(databaseBytes(joinerDir) / 2 ** 20).toFixed(0)} MiB on disk`,
);
console.log(
  `  limit: ${written.nodes} nodes hashed at ${Math.round(hashesPerSecond)} native SHA-256/s = ${limitSeconds.toFixed(2)} s; join ÷ limit = ${(joinSeconds / limitSeconds).toFixed(1)}`,
);
console.log(
  `  Chain.init after the join (genesis header adopted, not built): ${initSeconds.toFixed(1)} s`,
);

for (const s of servers) await s.host.stop();
await host.stop();
await joiner.close();
await source.close();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
mkdirSync(new URL("./out/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./out/statesync.json", import.meta.url),
  JSON.stringify(
    {
      quick: QUICK,
      accounts: ACCOUNTS,
      blocks: BLOCKS,
      txsPerBlock: TXS_PER_BLOCK,
      joinSeconds,
      joinCpuSeconds,
      exportSeconds,
      chunks: result.chunks,
      bytes: result.bytes,
      nodes: written.nodes,
      limitSeconds,
      initSeconds,
      targetSeconds: TARGET_SECONDS,
    },
    null,
    2,
  ),
);
