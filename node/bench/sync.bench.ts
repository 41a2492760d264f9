/**
 * Block-sync benchmark (issue 4: "a node 10 000 blocks behind catches up in
 * seconds, not minutes"). Writes a 4-validator testnet, fills validator 0's
 * database with BENCH_SYNC_BLOCKS finalized blocks (each with
 * BENCH_SYNC_TXS transfers and a certificate signed by 3 of the 4 keys),
 * starts validator 0 alone as the server, then a full node that starts
 * empty, and times it to the head. The full node checks everything as it
 * would from strangers: every certificate, every transaction signature,
 * every execution.
 *
 * Its limit, measured in the same run: the time to verify those blocks'
 * signatures (transactions and the 3 certificate votes of each) on all
 * cores at the native rate measured just before and just after the catch-up
 * (the higher kept, as in reference.ts). No catch-up that checks every
 * signature can be faster; the target (< 5 s) is in seconds.
 *
 * Run: node bench/sync.bench.ts (npm run bench runs it); BENCH_QUICK=1 for a
 * short run. Writes bench/out/sync.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StatusJson } from "@edgeledger/sdk/api";
import {
  addressFromPublicKey,
  encodeSignedTransaction,
  type FinalityCertificate,
  formatAddress,
  SecretKey,
  transactionHash,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import { nativeSigner, useNativeSha256 } from "@edgeledger/sdk/protocol/node";
import { Chain } from "../src/chain/chain.ts";
import { parseGenesis } from "../src/chain/genesis.ts";
import { paths } from "../src/config/config.ts";
import { testnet } from "../src/config/homes.ts";
import { Database } from "../src/db/database.ts";
import type { PendingTx } from "../src/mempool/mempool.ts";
import {
  api,
  cleanup,
  freePortBase,
  readKeyFile,
  sleep,
  startNode,
} from "../src/testing/harness.ts";
import { CORES, nativeVerifyRate } from "./reference.ts";
import type { SyncResult } from "./report.ts";

useNativeSha256();
const QUICK = process.env["BENCH_QUICK"] === "1";
const BLOCKS = Number(process.env["BENCH_SYNC_BLOCKS"] ?? (QUICK ? 1000 : 10_000));
const TXS = Number(process.env["BENCH_SYNC_TXS"] ?? 4);

const dir = mkdtempSync(join(tmpdir(), "bench-sync-"));
const funded = SecretKey.generate();
const net = await testnet({
  validators: 4,
  fullNodes: 1,
  out: join(dir, "net"),
  basePort: await freePortBase(5),
  fund: [{ address: formatAddress(addressFromPublicKey(funded.publicKey)), balance: 10n ** 15n }],
});
const server = net.nodes[0]!;
const joiner = net.nodes[4]!;
const keys = net.nodes.slice(0, 4).map((n) => readKeyFile(paths(n.home).validatorKey));

// Fill validator 0's database: blocks built and committed as consensus would.
const t0 = performance.now();
const db = new Database(paths(server.home).data);
await db.open();
const genesisPath = paths(server.home).genesis;
const chain = new Chain(
  db,
  parseGenesis(JSON.parse(readFileSync(genesisPath, "utf8")), genesisPath),
);
await chain.init();
const signer = nativeSigner(funded);
const to = addressFromPublicKey(SecretKey.generate().publicKey);
let nonce = 0;
for (let h = 1; h <= BLOCKS; h++) {
  const txs: PendingTx[] = [];
  for (let i = 0; i < TXS; i++) {
    const tx = {
      chainId: chain.chainId,
      from: funded.publicKey,
      nonce: nonce++,
      expiresAt: Date.now() + 3_600_000,
      body: { kind: "transfer" as const, to, amount: 1n },
    };
    const hash = transactionHash(tx);
    const stx = { tx, signature: signer.signSync(hash) };
    const bytes = encodeSignedTransaction(stx);
    txs.push({ hash, key: "", stx, bytes, sender: "", seq: 0 });
  }
  const set = chain.validatorsAt(h);
  const built = await chain.buildBlock(txs, chain.nextTime(Date.now()), set[0]!.publicKey);
  if (built.failed.length > 0) throw new Error(`block ${h}: ${built.failed[0]!.error.message}`);
  const signatures = [0, 1, 2].map((validatorIndex) => {
    const publicKey = set[validatorIndex]!.publicKey;
    const key = keys.find((k) => Buffer.from(k.publicKey).equals(Buffer.from(publicKey)))!;
    const vote = {
      type: "precommit" as const,
      height: h,
      round: 0,
      blockHash: built.blockHash,
      validator: publicKey,
    };
    return { validatorIndex, signature: key.sign(voteDigest(chain.chainId, vote)) };
  });
  const certificate: FinalityCertificate = {
    height: h,
    round: 0,
    blockHash: built.blockHash,
    signatures,
  };
  await chain.commit(built, certificate);
}
await db.close();
const fillSeconds = (performance.now() - t0) / 1000;

// Serve from validator 0; the full node starts empty and catches up.
await startNode({ home: server.home, url: server.apiUrl });
const rateBefore = nativeVerifyRate();
const t1 = performance.now();
const joining = await startNode({ home: joiner.home, url: joiner.apiUrl });
let height = 0;
while (height < BLOCKS) {
  height = (await api<StatusJson>(`${joiner.apiUrl}/v1/status`)).body.height;
  if (performance.now() - t1 > 600_000) throw new Error(`sync stuck at ${height}`);
  await sleep(50);
}
const syncSeconds = (performance.now() - t1) / 1000;
const verifyRate = Math.max(rateBefore, nativeVerifyRate());
// A clean stop, so NODE_OPTIONS=--cpu-prof leaves the joiner's profile behind.
await new Promise((done) => {
  joining.once("exit", done);
  joining.kill("SIGTERM");
});
await cleanup();
rmSync(dir, { recursive: true, force: true });

const signatures = BLOCKS * (TXS + 3);
const result: SyncResult & { fillSeconds: number; blocksPerSecond: number; txsPerSecond: number } =
  {
    blocks: BLOCKS,
    txsPerBlock: TXS,
    fillSeconds: Number(fillSeconds.toFixed(2)),
    syncSeconds: Number(syncSeconds.toFixed(2)),
    blocksPerSecond: Math.round(BLOCKS / syncSeconds),
    txsPerSecond: Math.round((BLOCKS * TXS) / syncSeconds),
    signatures,
    verifyRate: Math.round(verifyRate),
    cores: CORES,
    limitSeconds: Number((signatures / (verifyRate * CORES)).toFixed(2)),
  };
console.log(
  `\nsync bench${QUICK ? " (BENCH_QUICK)" : ""}: a full node ${BLOCKS} blocks behind (${TXS} transfers each, certificates by 3 of 4), node ${process.version}\n`,
);
console.table({
  "catch-up": {
    seconds: result.syncSeconds,
    "blocks/s": result.blocksPerSecond,
    "tx/s": result.txsPerSecond,
    "limit s": result.limitSeconds,
    ratio: Number((result.limitSeconds / result.syncSeconds).toFixed(3)),
  },
});
console.log(
  `limit: ${signatures} signatures at native verify ${result.verifyRate}/s × ${CORES} cores (measured before and after, higher kept); target < 5 s`,
);
mkdirSync(new URL("./out/", import.meta.url), { recursive: true });
writeFileSync(new URL("./out/sync.json", import.meta.url), JSON.stringify(result, null, 2));
