/**
 * GET /v1/health on real networks (docs/operations.md#health), and
 * haltHeight (docs/operations.md#upgrades):
 *   - a full node started late, first cut off from every peer (live: 503,
 *     yet 200 for ?probe=live), then let through: it goes syncing, then
 *     ready once at the head;
 *   - four validators with haltHeight H all stop at exactly H, on one block
 *     hash, and report halted; restarted without it they commit H + 1.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, sleep } from "@edgeledger/node/testing";
import type { NodeHealthJson } from "@edgeledger/sdk/api";
import { describe, expect, it } from "vitest";
import { type TestNetwork, withNetwork } from "../src/network.ts";

async function health(net: TestNetwork, i: number, query = "") {
  return api<NodeHealthJson>(`${net.urls[i]}/v1/health${query}`);
}

/** Node i's count of changes into `status` (edgeledger_health_changes_total). */
async function changesInto(net: TestNetwork, i: number, status: string): Promise<number> {
  const text = await (await fetch(`${net.urls[i]}/metrics`)).text();
  const line = new RegExp(`^edgeledger_health_changes_total\\{status="${status}"\\} (\\d+)$`, "m");
  return Number(line.exec(text)?.[1] ?? 0);
}

/** Sets keys of node i's config.json (read when it starts). */
function configure(net: TestNetwork, i: number, change: (config: Record<string, unknown>) => void) {
  const file = join(net.nodes[i]!.home, "config.json");
  const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  change(config);
  writeFileSync(file, JSON.stringify(config, null, 2));
}

describe("node health", () => {
  it(
    "a late node without peers is live, not ready; let through, it goes syncing, then ready",
    () =>
      withNetwork({ validators: 4, fullNodes: 1, startLater: [4] }, async (net) => {
        const sent: string[] = [];
        for (let i = 0; i < 12; i++) {
          sent.push(await net.transfer(i % 4));
          // One block each: sync has a chain to walk, more than a few blocks long.
          await net.waitCommitted(sent.slice(-1), 0);
        }
        const head = await net.height(0);
        expect(head).toBeGreaterThanOrEqual(12);
        for (const i of [0, 1, 2, 3]) {
          const v = await health(net, i);
          expect(v.status, `validator ${i}`).toBe(200);
          expect(v.body).toMatchObject({ status: "ready", validator: true, behind: 0 });
        }

        net.setFaults(4, { isolate: net.nodes.slice(0, 4).map((n) => n.peerId) });
        await net.start(4);
        const alone = await health(net, 4);
        expect(alone.status).toBe(503);
        expect(alone.body).toMatchObject({ status: "live", peers: 0, height: 0, validator: false });
        const live = await health(net, 4, "?probe=live");
        expect(live.status).toBe(200);
        expect(live.body.status).toBe("live");

        net.setFaults(4, {});
        await net.waitUntil("the late node ready at the head", async () => {
          const h = await health(net, 4);
          return h.status === 200 && h.body.height >= head;
        });
        // It was seen behind on the way (every new head is looked at, asked or not).
        expect(await changesInto(net, 4, "syncing")).toBeGreaterThanOrEqual(1);
        expect((await health(net, 4)).body).toMatchObject({ status: "ready", behind: 0 });
      }),
    120_000,
  );
});

describe("haltHeight", () => {
  const H = 6;
  it(
    `four validators stop at exactly ${H} on one block, then continue once restarted without it`,
    () =>
      withNetwork({ validators: 4, startLater: [0, 1, 2, 3] }, async (net) => {
        const all = [0, 1, 2, 3];
        for (const i of all)
          configure(net, i, (c) => {
            c["haltHeight"] = H;
            // Empty blocks every 100 ms: the chain reaches H, and would run past it, on its own.
            c["block"] = { ...(c["block"] as object), heartbeatMs: 100 };
          });
        await Promise.all(all.map((i) => net.start(i)));
        await net.waitUntil(`all halted at ${H}`, async () => {
          const answers = await Promise.all(all.map((i) => health(net, i)));
          return answers.every((a) => a.body.status === "halted");
        });
        // Many heartbeats later, still at H: nobody proposed or voted for H + 1.
        await sleep(1000);
        const statuses = await Promise.all(all.map((i) => net.status(i)));
        expect(statuses.map((s) => s?.height)).toEqual(all.map(() => H));
        expect(new Set(statuses.map((s) => s?.latestHash)).size).toBe(1);
        for (const i of all) {
          const h = await health(net, i);
          expect(h.status).toBe(503);
          expect(h.body).toMatchObject({ status: "halted", height: H, haltHeight: H });
        }

        // The upgrade's restart: no halt height, one validator after another.
        for (const i of all) {
          configure(net, i, (c) => {
            c["haltHeight"] = 0;
          });
          await net.restart(i);
        }
        await net.waitForHeight(H + 1, all);
        await net.waitUntil("all ready", async () => {
          const answers = await Promise.all(all.map((i) => health(net, i)));
          return answers.every((a) => a.status === 200);
        });
      }),
    120_000,
  );
});
