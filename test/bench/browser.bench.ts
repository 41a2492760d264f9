/**
 * SDK verification in a browser (the browser half of "verify one account
 * proof + certificate (4 validators) and one receipt, per second, in Node and
 * in a browser"; the Node half is in client-sdk/bench). Bundles
 * browser/verifyPage.ts, serves it from 127.0.0.1 (a secure context, so
 * WebCrypto is there), runs it in headless Chromium and reads back ops/s for
 * the WebCrypto and the noble verifier. A benchmark, not a test: nothing
 * here judges the figures.
 *
 * Run with `npm run bench` (from test/ or the root; needs a built SDK), or
 * `node bench/browser.bench.ts`; BENCH_QUICK=1 for a short smoke run. Prints
 * a table and writes bench/out/browser.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { bundleForBrowser, launchChromium, serveStatic, watchForErrors } from "../src/browser.ts";
import type { BenchOptions, BenchPage, BenchReport } from "./browser/verifyPage.ts";

const QUICK = process.env["BENCH_QUICK"] === "1";
const OPTIONS: BenchOptions = QUICK
  ? { warmupMs: 30, windowMs: 150 }
  : { warmupMs: 200, windowMs: 1000 };
const OUT_FILE = new URL("./out/browser.json", import.meta.url);
/** Bounds the whole run in the page (8 windows plus building the fixture). */
const RUN_TIMEOUT_MS = 120_000;

function formatRate(opsPerSec: number): string {
  return opsPerSec >= 100
    ? Math.round(opsPerSec).toLocaleString("en-US")
    : opsPerSec.toPrecision(3);
}

function printTable(report: BenchReport): void {
  const header = ["verification", "verifier", "ops/s", "ms/op"];
  const cells = report.rows.map((r) => [
    r.name,
    r.verifier,
    formatRate(r.opsPerSec),
    (1000 / r.opsPerSec).toPrecision(3),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, c) => (c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of cells) console.log(line(row));
}

async function main(): Promise<void> {
  const page = await bundleForBrowser(new URL("./browser/verifyPage.ts", import.meta.url).pathname);
  const site = await serveStatic({
    "/": {
      type: "text/html",
      body: '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>edgeledger SDK verification bench</title><script type="module" src="/bench.js"></script>',
    },
    "/bench.js": { type: "text/javascript", body: page },
  });
  const browser = await launchChromium();
  try {
    const tab = await browser.newPage();
    const errors = watchForErrors(tab);
    tab.setDefaultTimeout(RUN_TIMEOUT_MS);
    await tab.goto(`${site.url}/`);
    await tab.waitForFunction(() => "edgeledgerBench" in globalThis);
    process.stderr.write(
      `browser bench${QUICK ? " (quick)" : ""}: ${browser.version()}, windows of ${OPTIONS.windowMs} ms\n`,
    );
    const report = await tab.evaluate(
      (options) =>
        (globalThis as unknown as { edgeledgerBench: BenchPage }).edgeledgerBench.run(options),
      OPTIONS,
    );
    if (errors.length > 0) throw new Error(`the bench page reported errors:\n${errors.join("\n")}`);

    const f = report.fixture;
    console.log(
      `\nSDK verification in headless Chromium ${browser.version()}${QUICK ? " (BENCH_QUICK)" : ""}, ` +
        `${os.availableParallelism()} cpus (${os.cpus()[0]?.model ?? "unknown"}); one at a time.\n` +
        `Fixture: ${f["validators"]} validators (${f["certificateSignatures"]} signatures), ` +
        `state of ${f["accounts"]} accounts (${f["accountProofSiblings"]} proof siblings), ` +
        `block of ${f["blockTxs"]} txs (${f["receiptProofSiblings"]} receipt siblings); ` +
        `built in ${Math.round(report.fixtureMs)} ms.\n`,
    );
    printTable(report);

    mkdirSync(new URL(".", OUT_FILE), { recursive: true });
    writeFileSync(
      OUT_FILE,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          browser: `Chromium ${browser.version()} (headless, @sparticuz/chromium)`,
          userAgent: report.userAgent,
          hardwareConcurrency: report.hardwareConcurrency,
          cpuModel: os.cpus()[0]?.model ?? "unknown",
          quick: QUICK,
          ...OPTIONS,
          webCryptoEd25519: report.webCryptoEd25519,
          fixture: report.fixture,
          results: report.rows.map((r) => ({
            name: r.name,
            verifier: r.verifier,
            opsPerSec: Math.round(r.opsPerSec * 10) / 10,
            ops: r.ops,
            seconds: Number(r.seconds.toFixed(3)),
          })),
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nwrote ${OUT_FILE.pathname}`);
  } finally {
    await browser.close();
    await site.close();
  }
}

await main();
