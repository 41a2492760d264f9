/**
 * Bundles the Workers entry (src/adapters/workers.ts) into one ES module,
 * as wrangler would: esbuild, the Workers' export conditions, no Node
 * built-ins (a `node:` import fails the build, so the worker cannot come to
 * depend on one by accident). The workerd tests run this bundle in
 * Miniflare; `npm run build:worker` writes it to dist/worker.js for a look
 * at its size or a deploy without wrangler.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { build } from "esbuild";

const ENTRY = resolve(import.meta.dirname, "../src/adapters/workers.ts");

export async function bundleWorker(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    minify: false,
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

if (import.meta.main) {
  const out = resolve(import.meta.dirname, "../dist/worker.js");
  const code = await bundleWorker();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code);
  console.log(`${out}: ${(code.length / 1024).toFixed(0)} KiB`);
}
