/**
 * The browser entry points (`@edgeledger/sdk`, `@edgeledger/sdk/protocol`)
 * must not reach a Node built-in: walk their import graph from the sources
 * and list every package they pull in.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm;

function packagesReachedFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [resolve(here, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, "utf8").matchAll(IMPORT)) {
      if (specifier!.startsWith(".")) queue.push(resolve(dirname(file), specifier!));
      else packages.add(specifier!);
    }
  }
  return packages;
}

describe("browser entry points", () => {
  it.each(["index.ts", "protocol/index.ts"])("%s imports no Node built-in", (entry) => {
    const packages = [...packagesReachedFrom(entry)].sort();
    expect(packages).toEqual(["@noble/ed25519", "@noble/hashes/sha2.js", "@scure/base"]);
  });

  it("the Node-only entry does (so the walk can see one)", () => {
    expect([...packagesReachedFrom("protocol/node.ts")]).toContain("node:crypto");
  });
});
