/**
 * The end of `npm run bench` in node/: every figure of both node benches in
 * one table (value, the limit it is divided by, ratio, target, holds), read
 * from bench/out/node.json, sync.json, storage.json and statesync.json as
 * this run wrote them.
 */
import { existsSync, readFileSync } from "node:fs";
import { type Figure, figures, printFigures, type Run, type SyncResult } from "./report.ts";

const read = <T>(name: string): T | null => {
  const file = new URL(`./out/${name}`, import.meta.url);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : null;
};
const node = read<{ date: string; quick: boolean; wallSeconds: number; runs: Run[] }>("node.json");
const sync = read<SyncResult>("sync.json");
console.log(
  `\nnode benches, summary${node?.quick ? " (BENCH_QUICK: small counts, not the figures)" : ""}; node bench ${node ? `${node.date}, ${Math.round(node.wallSeconds)} s` : "missing"}. The state-tree figure is client-sdk's (bench/protocol.bench.ts).\n`,
);
interface StorageRun {
  samples: { blocks: number; bytes: number }[];
  factor: number;
  peakFactor: number;
  windowFactor: number;
  compactions: number;
}
const storage = read<{
  quick: boolean;
  pruned: StorageRun;
  boundedFactor: number;
  historyPerBlock: number;
  targetFactor: number;
  retainHeaders: StorageRun & { retention: { retainHeaders: number } };
}>("storage.json");
// The storage bench's figures (storage.bench.ts): disk at the last sample, and its peak, ÷ at 1 000 blocks.
const storageRows: Figure[] = storage
  ? [
      {
        figure: `disk under pruning less headers+certificates: ${storage.pruned.samples.at(-1)?.blocks} blocks ÷ 1000${storage.quick ? " (BENCH_QUICK)" : ""}`,
        value: `all of it ×${storage.pruned.factor.toFixed(2)}`,
        limit: `headers+certs ${(storage.historyPerBlock / 1024).toFixed(2)} KiB/block`,
        ratio: storage.boundedFactor.toFixed(2),
        target: `≤ ${storage.targetFactor}`,
        holds: storage.boundedFactor <= storage.targetFactor ? "yes" : "no",
      },
      ...(
        [
          ["at the end", storage.retainHeaders.factor],
          ["its peak", storage.retainHeaders.peakFactor],
          ["largest in the last 1000 ÷ the first 1000", storage.retainHeaders.windowFactor],
        ] as const
      ).map(
        ([which, factor]): Figure => ({
          figure: `disk under pruning with retainHeaders ${storage.retainHeaders.retention.retainHeaders}, all of it, ${which}: ${storage.retainHeaders.samples.at(-1)?.blocks} blocks ÷ 1000 (${storage.retainHeaders.compactions} automatic compactions)`,
          value: `×${factor.toFixed(2)}`,
          limit: "the size at 1000 blocks",
          ratio: factor.toFixed(2),
          target: `≤ ${storage.targetFactor}`,
          holds: factor <= storage.targetFactor ? "yes" : "no",
        }),
      ),
    ]
  : [];
// -- state sync (statesync.bench.ts): the join against the issue's < 60 s.
const stateSync = read<{
  quick: boolean;
  accounts: number;
  blocks: number;
  joinSeconds: number;
  limitSeconds: number;
  targetSeconds: number;
}>("statesync.json");
const stateSyncRows: Figure[] = stateSync
  ? [
      {
        figure: `state sync join: ${stateSync.accounts} accounts, ${stateSync.blocks} blocks${stateSync.quick ? " (BENCH_QUICK)" : ""}`,
        value: `${stateSync.joinSeconds.toFixed(1)} s`,
        limit: `hashing it ${stateSync.limitSeconds.toFixed(1)} s`,
        ratio: (stateSync.joinSeconds / stateSync.limitSeconds).toFixed(1),
        target: `< ${stateSync.targetSeconds} s`,
        holds: stateSync.joinSeconds < stateSync.targetSeconds ? "yes" : "no",
      },
    ]
  : [];
printFigures([...figures(node?.runs ?? [], sync), ...storageRows, ...stateSyncRows]);
