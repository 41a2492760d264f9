/**
 * The end of `npm run bench` in node/: every figure of both node benches in
 * one table (value, the limit it is divided by, ratio, target, holds), read
 * from bench/out/node.json and bench/out/sync.json as this run wrote them.
 */
import { existsSync, readFileSync } from "node:fs";
import { figures, printFigures, type Run, type SyncResult } from "./report.ts";

const read = <T>(name: string): T | null => {
  const file = new URL(`./out/${name}`, import.meta.url);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : null;
};
const node = read<{ date: string; quick: boolean; wallSeconds: number; runs: Run[] }>("node.json");
const sync = read<SyncResult>("sync.json");
console.log(
  `\nnode benches, summary${node?.quick ? " (BENCH_QUICK: small counts, not the figures)" : ""}; node bench ${node ? `${node.date}, ${Math.round(node.wallSeconds)} s` : "missing"}. The state-tree figure is client-sdk's (bench/protocol.bench.ts).\n`,
);
printFigures(figures(node?.runs ?? [], sync));
