/**
 * A check run by `npm run lint` (not a test): the benches stay out of
 * `npm test`. They start networks of node processes for minutes and measure
 * speed, which tests never assert on; a fresh clone's `npm test` must not
 * run them, not even as BENCH_QUICK. Fails (exit 1) naming what pulls one in.
 */
import { readdirSync, readFileSync } from "node:fs";
import { matchesGlob } from "node:path";
import config from "../vitest.config.ts";

const problems: string[] = [];
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  scripts: Record<string, string>;
};
for (const [name, script] of Object.entries(pkg.scripts))
  if (name !== "bench" && /bench/.test(script) && !/notInTests/.test(script))
    problems.push(`node/package.json script "${name}" runs a bench: ${script}`);
const include = config.test?.include ?? [];
for (const file of readdirSync(new URL(".", import.meta.url)))
  for (const pattern of include)
    if (matchesGlob(`bench/${file}`, pattern))
      problems.push(`bench/${file} matches vitest include "${pattern}"`);
const turbo = JSON.parse(readFileSync(new URL("../../turbo.json", import.meta.url), "utf8")) as {
  tasks: Record<string, { dependsOn?: string[] }>;
};
if (turbo.tasks["test"]?.dependsOn?.some((d) => d.replace(/^\^/, "") === "bench"))
  problems.push('turbo.json: "test" depends on "bench"');
if (problems.length > 0) {
  console.error(`benches must stay out of npm test:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
