/**
 * config.json's remote signer keys: the two go together, and a home whose
 * config names a remote signer must hold no validator key — the node never
 * falls back to a key on its own disk.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig, paths } from "./config.ts";
import { init } from "./homes.ts";
import { loadNodeSetup } from "./setup.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function home(signer?: { address: string; publicKey: string }): string {
  const dir = mkdtempSync(join(tmpdir(), "signer-setup-"));
  dirs.push(dir);
  const h = join(dir, "home");
  init({ home: h, chainId: "test-chain", apiPort: 0, fund: [] });
  if (signer) {
    const file = paths(h).config;
    const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...config, signer }));
  }
  return h;
}

const remote = { address: "127.0.0.1:26659", publicKey: "ab".repeat(32) };
const log = pino({ level: "silent" });

describe("remote signer config", () => {
  it("by default the key is in the home", () => {
    expect(loadNodeSetup(home(), { logger: log }).key).not.toBeNull();
  });

  it("with a remote signer, refuses a home that still holds a validator key", () => {
    expect(() => loadNodeSetup(home(remote), { logger: log })).toThrow(/remote signer/);
  });

  it("with a remote signer and no key in the home, the node has no key of its own", () => {
    const h = home(remote);
    rmSync(paths(h).validatorKey);
    expect(loadNodeSetup(h, { logger: log }).key).toBeNull();
  });

  it("refuses an address without the signer's key, or a key that is not 32 bytes of hex", () => {
    const h = home({ address: "127.0.0.1:26659", publicKey: "" });
    expect(() => loadConfig(paths(h).config)).toThrow(/signer\.publicKey/);
    const bad = home({ address: "nowhere", publicKey: "ab".repeat(32) });
    expect(() => loadConfig(paths(bad).config)).toThrow(/signer\.address/);
  });
});
