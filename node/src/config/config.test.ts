import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_NODE_CACHE_BYTES } from "../db/nodeCache.ts";
import { defaultConfig, haltHeightOf, loadConfig } from "./config.ts";

const dir = mkdtempSync(join(tmpdir(), "edgeledger-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(value: unknown) {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(value));
  return loadConfig(file);
}

describe("config.json", () => {
  it("fills every absent key with its default, and reads the state cache's size", () => {
    expect(load({})).toEqual(defaultConfig);
    expect(defaultConfig.storage.stateCacheMB * 2 ** 20).toBe(DEFAULT_NODE_CACHE_BYTES);
    expect(load({ storage: { stateCacheMB: 128 } }).storage.stateCacheMB).toBe(128);
  });

  it("refuses an ill-typed or unknown setting, naming its key", () => {
    expect(() => load({ storage: { stateCacheMB: "lots" } })).toThrow(
      expect.objectContaining({
        code: "CONFIG_INVALID",
        message: expect.stringContaining("storage.stateCacheMB"),
      }),
    );
    expect(() => load({ storage: { stateCacheMb: 1 } })).toThrow(
      expect.objectContaining({ message: expect.stringContaining("storage.stateCacheMb") }),
    );
    expect(() => load({ storage: { stateCacheMB: -1 } })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID" }),
    );
  });

  // -- upgrades (ops) --
  it("reads haltHeight (0: none) and refuses one that is not a height", () => {
    expect(haltHeightOf(load({}))).toBeNull();
    expect(haltHeightOf(load({ haltHeight: 120 }))).toBe(120);
    for (const bad of [-1, 1.5, "120", null])
      expect(() => load({ haltHeight: bad })).toThrow(
        expect.objectContaining({
          code: "CONFIG_INVALID",
          message: expect.stringContaining("haltHeight"),
        }),
      );
  });

  it("reads the pruning keys: 1000 recent states by default, 0 for an archive node", () => {
    expect(defaultConfig.pruning).toEqual({
      keepRecent: 1000,
      retainBlocks: 0,
      compactAfterNodes: 0,
      retainHeaders: 0,
      compactGrowthPercent: 50,
    });
    expect(load({ pruning: { keepRecent: 0 } }).pruning.keepRecent).toBe(0);
    expect(load({ pruning: { retainBlocks: 5000 } }).pruning).toEqual({
      keepRecent: 1000,
      retainBlocks: 5000,
      compactAfterNodes: 0,
      retainHeaders: 0,
      compactGrowthPercent: 50,
    });
    expect(load({ pruning: { compactGrowthPercent: 0 } }).pruning.compactGrowthPercent).toBe(0);
    expect(() => load({ pruning: { compactGrowthPercent: 0.5 } })).toThrow(
      expect.objectContaining({ message: expect.stringContaining("pruning.compactGrowthPercent") }),
    );
    expect(() => load({ pruning: { keepRecent: "archive" } })).toThrow(
      expect.objectContaining({ message: expect.stringContaining("pruning.keepRecent") }),
    );
  });

  it("takes retainHeaders (0: every header) only above keepRecent and retainBlocks, both set", () => {
    const ok = { keepRecent: 100, retainBlocks: 200, retainHeaders: 200 };
    expect(load({ pruning: ok }).pruning).toMatchObject(ok);
    for (const bad of [
      { retainHeaders: 500 }, // keepRecent 1000 above it
      { keepRecent: 100, retainHeaders: 500 }, // every body kept (retainBlocks 0)
      { keepRecent: 0, retainBlocks: 100, retainHeaders: 500 }, // an archive's state needs every header
      { keepRecent: 100, retainBlocks: 600, retainHeaders: 500 },
    ])
      expect(() => load({ pruning: bad }), JSON.stringify(bad)).toThrow(
        expect.objectContaining({
          code: "CONFIG_INVALID",
          message: expect.stringContaining("pruning.retainHeaders"),
        }),
      );
  });

  it("reads the statesync keys: no snapshots by default; enable needs the trusted height and hash", () => {
    expect(defaultConfig.statesync).toEqual({
      enable: false,
      trustHeight: 0,
      trustHash: "",
      rpcServers: [],
      rpcAgree: 2,
      snapshotInterval: 0,
      keep: 2,
    });
    const hash = "ab".repeat(32);
    expect(
      load({ statesync: { enable: true, trustHeight: 9, trustHash: hash } }).statesync.enable,
    ).toBe(true);
    for (const [bad, key] of [
      [{ enable: true, trustHash: hash }, "statesync.trustHeight"],
      [{ enable: true, trustHeight: 9, trustHash: "beef" }, "statesync.trustHash"],
      [{ enable: "yes" }, "statesync.enable"],
    ] as const)
      expect(() => load({ statesync: bad })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining(key) }),
      );
  });

  it("reads statesync.rpcServers as the other form of trust: URLs, at least rpcAgree of them, not beside trustHash", () => {
    const servers = ["http://127.0.0.1:8545", "https://edge.example.com"];
    const s = load({ statesync: { enable: true, rpcServers: servers } }).statesync;
    expect(s).toMatchObject({ rpcServers: servers, rpcAgree: 2, trustHeight: 0 });
    for (const [bad, key] of [
      [
        { enable: true, rpcServers: servers, trustHeight: 9, trustHash: "ab".repeat(32) },
        "statesync.rpcServers",
      ],
      [{ enable: true, rpcServers: ["127.0.0.1:8545", servers[1]!] }, "statesync.rpcServers"],
      [{ enable: true, rpcServers: [servers[0]!] }, "statesync.rpcAgree"],
      [{ enable: true, rpcServers: servers, rpcAgree: 0 }, "statesync.rpcAgree"],
    ] as const)
      expect(() => load({ statesync: bad })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining(key) }),
      );
  });
});
