/**
 * `edgeledger start --halt-height` and `edgeledger status`: a one-validator
 * node (it needs no peers) started with a halt height commits that height
 * and stops there, and status shows what it showed before (the SDK's
 * getStatus) plus its health: halted, height, behind, last commit age, peers,
 * and what its storage keeps (pruned to the last 2 heights here).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { api, cleanup, kill9, makeHome, sleep } from "@edgeledger/node/testing";
import type { NodeHealthJson, StatusJson } from "@edgeledger/sdk/api";
import { afterAll, describe, expect, it } from "vitest";
// The joining node's own API (not exported by @edgeledger/node: the node starts it during a join).
import { listenApi } from "../../node/src/api/start.ts";
import { joiningService } from "../../node/src/statesync/joiningApi.ts";

const cli = resolve(import.meta.dirname, "../src/main.ts");
let child: ChildProcess | null = null;
afterAll(async () => {
  if (child) await kill9(child);
  await cleanup();
});

async function waitFor<T>(what: string, probe: () => Promise<T | null>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("edgeledger start --halt-height, edgeledger status", () => {
  it("halts at the height given and status shows the health", async () => {
    // An empty block every 20 ms: without the halt the chain would run far past 3.
    const home = await makeHome("status-chain", 1000n, { heartbeatMs: 20 });
    const configFile = resolve(home.home, "config.json");
    const retention = { keepRecent: 2, retainBlocks: 2, retainHeaders: 2 };
    const config = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...config, pruning: retention }));
    child = spawn(process.execPath, [cli, "start", "--home", home.home, "--halt-height", "3"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout?.on("data", (d) => (log += d));
    child.stderr?.on("data", (d) => (log += d));
    const halted = await waitFor("health halted", async () => {
      const r = await api<NodeHealthJson>(`${home.url}/v1/health`);
      return r.body.status === "halted" ? r : null;
    });
    expect(halted.status).toBe(503);
    expect(halted.body).toMatchObject({ height: 3, haltHeight: 3, behind: 0, peers: 0 });
    expect(log).toContain("halted at haltHeight");
    // Still serving reads, and still at 3 after many heartbeats.
    await sleep(300);
    expect((await api<StatusJson>(`${home.url}/v1/status`)).body.height).toBe(3);

    const run = spawnSync(process.execPath, [cli, "status", "--home", home.home], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const shown = JSON.parse(run.stdout) as StatusJson & { health: NodeHealthJson };
    expect(shown).toMatchObject({
      chainId: "status-chain",
      height: 3,
      validator: expect.any(Object),
    });
    expect(shown.health).toMatchObject({
      status: "halted",
      height: 3,
      behind: 0,
      peers: 0,
      validator: true,
      haltHeight: 3,
    });
    expect(shown.health.lastCommitAgeMs).toBeGreaterThanOrEqual(0);
    // Heights 2 and 3 kept of each kind; the pruner ran; no snapshots (none configured).
    expect(shown.health.storage).toMatchObject({
      retention,
      earliestState: 2,
      earliestBlock: 2,
      earliestHeader: 2,
      snapshots: { count: 0, latest: null },
    });
    expect(shown.health.storage?.dbSizeBytes).toBeGreaterThan(0);
    expect(shown.health.storage?.lastPruneAt).toBeGreaterThan(0);
  }, 60_000);
});

/** The CLI in a child process, its output and exit code, within 30 s. */
function runCli(
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const run = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    run.stdout.on("data", (d) => (stdout += d));
    run.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => run.kill("SIGKILL"), 30_000);
    run.on("error", reject);
    run.on("close", (status) => {
      clearTimeout(timer);
      resolveRun({ status, stdout, stderr });
    });
  });
}

describe("edgeledger status during a state sync join", () => {
  it("prints the join's progress, not the 503 of a node with no chain yet", async () => {
    // The API a joining node serves (statesync/joiningApi.ts): health with the join, 503 elsewhere.
    const health: NodeHealthJson = {
      status: "state-syncing",
      height: 0,
      lastCommitAgeMs: 0,
      peers: 3,
      validator: false,
      bestPeerHeight: 40,
      behind: 40,
      haltHeight: null,
      stateSync: {
        phase: "fetching",
        snapshotHeight: 36,
        chunksDone: 2,
        chunksTotal: 4,
        bytes: 2048,
        chunksRefused: 0,
        peers: 3,
      },
    };
    const joining = await listenApi(
      joiningService(() => health),
      { host: "127.0.0.1", port: 0 },
    );
    try {
      // As an operator sees it, the node refuses the status itself.
      expect((await api(`${joining.url}/v1/status`)).status).toBe(503);
      // Not spawnSync: the server answering it runs in this process.
      const run = await runCli([
        "status",
        "--url",
        joining.url,
        "--chain-id",
        "joining-chain",
        "--genesis-hash",
        "ab".repeat(32),
      ]);
      expect(run.status, run.stderr).toBe(0);
      const shown = JSON.parse(run.stdout) as {
        status: string;
        progress: string;
        health: NodeHealthJson;
      };
      expect(shown.status).toBe("state-syncing");
      expect(shown.progress).toBe(
        "joining by state sync: 2 of 4 chunks of the snapshot at height 36 (50%), 2.0 KiB this run from 3 peers",
      );
      expect(shown.health).toEqual(health);
    } finally {
      await joining.close();
    }
  });
});
