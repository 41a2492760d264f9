/**
 * The browser entry points (`@edgeledger/sdk`, `@edgeledger/sdk/protocol`,
 * `@edgeledger/sdk/wallet`) must not reach a Node built-in: walk their import
 * graph from the sources and list every package they pull in. (Each package
 * listed was read for its own imports: all pure JS.)
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

const PROTOCOL_PACKAGES = ["@noble/ed25519", "@noble/hashes/sha2.js", "@scure/base"];
const WALLET_PACKAGES = [...PROTOCOL_PACKAGES, "@noble/hashes/scrypt.js"].sort();

describe("browser entry points", () => {
  it.each([
    ["index.ts", WALLET_PACKAGES],
    ["protocol/index.ts", PROTOCOL_PACKAGES],
    ["wallet/index.ts", WALLET_PACKAGES],
  ])("%s imports no Node built-in", (entry, expected) => {
    const packages = [...packagesReachedFrom(entry)].sort();
    expect(packages).toEqual(expected);
  });

  it("the Node-only entry does (so the walk can see one)", () => {
    expect([...packagesReachedFrom("protocol/node.ts")]).toContain("node:crypto");
  });
});
