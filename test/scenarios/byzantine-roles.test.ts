/**
 * One Byzantine validator of four, one role at a time (the test-only build,
 * node/src/testing/faults.ts): each scenario holds the honest three to
 * liveness (a number of new blocks within a bounded time while the attacker
 * is active) and, through withNetwork, to every invariant, including I4: a
 * fresh full node syncs the whole chain from genesis, verifying everything.
 * The honest nodes' block rate and peak memory, with and without each
 * attacker, are printed at the end.
 */
import { api } from "@edgeledger/node/testing";
import type { BlockJson } from "@edgeledger/sdk/api";
import { afterAll, describe, expect, it } from "vitest";
import { type Progress, type TestNetwork, withNetwork } from "../src/network.ts";

type Role = NonNullable<Parameters<TestNetwork["setFaults"]>[1]["roles"]>[number];

const HONEST = [0, 1, 2];
const BLOCKS = 6;
const WITHIN_MS = 60_000;
const GIB = 1024;
const rows: { attacker: string; progress: Progress }[] = [];

afterAll(() => {
  const base = rows.find((r) => r.attacker === "none")?.progress.rate;
  console.log("\nhonest validators' block rate and peak RSS, one Byzantine validator of 4:");
  console.log("attacker        blocks/s  ÷ no attacker  peak RSS (MiB, nodes 0-3)");
  for (const { attacker, progress: p } of rows) {
    const ratio = base ? (p.rate / base).toFixed(2) : "-";
    const rss = [0, 1, 2, 3].map((i) => p.peakRssMiB[i] ?? "-").join(" / ");
    console.log(
      `${attacker.padEnd(15)} ${p.rate.toFixed(2).padStart(8)}  ${ratio.padStart(13)}  ${rss}`,
    );
  }
});

/** Every block's time on node 0 is no later than now (plus the clock precision). */
async function blockTimesAreSane(net: TestNetwork): Promise<void> {
  const head = await net.height(0);
  const now = Date.now();
  for (let h = 1; h <= head; h++) {
    const block = (await api<BlockJson>(`${net.urls[0]}/v1/blocks/${h}`)).body;
    expect(block.block.header.time, `height ${h}`).toBeLessThanOrEqual(now + 500);
  }
}

async function underAttack(
  role: Role | null,
  extra: (net: TestNetwork, p: Progress) => Promise<void> = async () => undefined,
): Promise<void> {
  await withNetwork(
    { validators: 4, ...(role && { faults: { 3: { roles: [role] } } }) },
    async (net) => {
      const p = await net.progress(HONEST, BLOCKS, WITHIN_MS);
      rows.push({ attacker: role ?? "none", progress: p });
      for (const i of HONEST) expect(p.peakRssMiB[i] ?? 0).toBeLessThan(GIB);
      await extra(net, p);
    },
  );
}

describe("one Byzantine validator of four, by role", () => {
  it("no attacker (the baseline the others are compared with)", () => underAttack(null));

  it("proposes blocks holding a pending transaction with a swapped signature", () =>
    underAttack("swap-signature", async (net) => {
      // The real transactions still commit everywhere (I2 checks where).
      const hashes = [await net.transfer(1), await net.transfer(2)];
      await net.waitCommitted(hashes, 0, 45_000);
    }));

  it("stamps its blocks an hour ahead", () => underAttack("future-time", blockTimesAreSane));

  it("stamps its blocks with the largest time there is", () =>
    underAttack("max-time", blockTimesAreSane));

  it("proposes maximum-size blocks in every round it leads", () => underAttack("max-size"));

  it("relays every real proposal again with a swapped body", () => underAttack("swap-body"));

  it("signs votes for far-future rounds and floods catch-up with repeats", () =>
    underAttack("flood-votes"));

  it("stays silent (no proposal, no vote)", () => underAttack("silent"));
});
