/**
 * What the SDK costs a browser app, measured on every build: the minimal
 * transfer app (examples/minimal-transfer.ts: createClient, transfer,
 * waitForFinality, getAccount) bundled from the freshly built dist/ the way
 * an app's bundler would (esbuild, browser platform, minified, ES2023).
 * Prints its raw and gzip size and the modules that weigh most, and writes
 * bench/out/bundle.json. The browser platform also makes the build fail if
 * the client's import graph reaches a Node built-in.
 *
 * Run by `npm run build` after tsc; on its own: `node scripts/bundle-size.ts`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build, version as esbuildVersion, type Metafile } from "esbuild";

const ENTRY = "examples/minimal-transfer.ts";
const OUT_FILE = new URL("../bench/out/bundle.json", import.meta.url);
const TOP = 8;

/** The package (node_modules) or SDK folder a bundled input belongs to. */
function groupOf(input: string): string {
  const inPackage = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (inPackage) return inPackage[1]!;
  // The SDK's own modules: dist/<folder>/…, or the example itself.
  const own = input.match(/(?:^|\/)dist\/(.+)$/);
  if (!own) return input.replace(/^.*client-sdk\//, "");
  const parts = own[1]!.split("/");
  return `sdk/${parts.length > 1 ? parts[0]! : parts[0]!.replace(/\.js$/, "")}`;
}

function heaviest(metafile: Metafile): { module: string; bytes: number }[] {
  const output = Object.values(metafile.outputs)[0]!;
  const groups = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const group = groupOf(input);
    groups.set(group, (groups.get(group) ?? 0) + bytesInOutput);
  }
  return [...groups]
    .map(([module, bytes]) => ({ module, bytes }))
    .filter(({ bytes }) => bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

const result = await build({
  absWorkingDir: new URL("..", import.meta.url).pathname,
  entryPoints: [ENTRY],
  bundle: true,
  minify: true,
  platform: "browser",
  format: "esm",
  target: "es2023",
  write: false,
  metafile: true,
  logLevel: "warning",
});
const code = result.outputFiles[0]!.contents;
const raw = code.length;
const gzip = gzipSync(code, { level: 9 }).length;
const modules = heaviest(result.metafile);

console.log(`bundle size: ${ENTRY}, minified ${kB(raw)}, gzip ${kB(gzip)}`);
console.log(
  `  heaviest (minified): ${modules
    .slice(0, TOP)
    .map((m) => `${m.module} ${kB(m.bytes)}`)
    .join(", ")}`,
);

mkdirSync(new URL(".", OUT_FILE), { recursive: true });
writeFileSync(
  OUT_FILE,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      entry: ENTRY,
      bundler: `esbuild ${esbuildVersion} (bundle, minify, platform browser, format esm, target es2023)`,
      rawBytes: raw,
      gzipBytes: gzip,
      modules,
    },
    null,
    2,
  )}\n`,
);
