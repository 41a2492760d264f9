/**
 * State sync on real processes: four validators over a genesis of a few
 * hundred accounts take a snapshot every 4 heights; validator 3 plays the
 * hostile peer and serves every chunk with a byte flipped (the test build's
 * "bad-chunks" role). A fresh full node with statesync.enable and a trusted
 * height and hash joins from the snapshot: it has no block body at or below
 * the snapshot height (it did not replay), reaches the head, follows
 * consensus, and serves proofs the SDK verifies. (That a bad chunk is
 * refused with its code and its sender banned is node/src/statesync/join.test.ts,
 * in process, where the faults can be seen.)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { genesisHashOf } from "@edgeledger/node/testing";
import { createClient } from "@edgeledger/sdk";
import { toHex } from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import { type TestNetwork, withNetwork } from "../src/network.ts";

const INTERVAL = 4;
const DERIVED = 300;
const JOINER = 4;

function editJson(
  file: string,
  edit: (v: Record<string, unknown>) => Record<string, unknown>,
): void {
  writeFileSync(file, JSON.stringify(edit(JSON.parse(readFileSync(file, "utf8")))));
}

async function headerHash(net: TestNetwork, via: number, height: number): Promise<string> {
  const res = await fetch(`${net.urls[via]}/v1/headers/${height}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { header: { hash: string } }).header.hash;
}

describe("state sync", () => {
  it("a fresh full node joins from a snapshot despite a peer serving bad chunks, reaches the head and serves verified proofs", () =>
    withNetwork(
      {
        validators: 4,
        fullNodes: 1,
        // Every node starts later: the genesis gets its derived accounts first.
        startLater: [0, 1, 2, 3, JOINER],
        faults: { 3: { roles: ["bad-chunks"] } },
      },
      async (net) => {
        const seed = toHex(new Uint8Array(32).fill(0x5e));
        for (const node of [...net.nodes, net.auditor])
          editJson(join(node.home, "genesis.json"), (g) => ({
            ...g,
            derivedAccounts: { seed, count: DERIVED, balance: "1000" },
          }));
        for (const i of [0, 1, 2, 3])
          editJson(join(net.nodes[i]!.home, "config.json"), (c) => ({
            ...c,
            statesync: { snapshotInterval: INTERVAL, keep: 2 },
          }));
        await Promise.all([0, 1, 2, 3].map((i) => net.start(i)));
        const sent: string[] = [];
        for (let i = 0; i < 24; i++) {
          sent.push(await net.transfer(i % 4));
          if (i % 3 === 2) await net.waitCommitted(sent.slice(-1), 0);
        }
        await net.waitCommitted(sent, 0);
        const head = await net.height(0);
        expect(head).toBeGreaterThanOrEqual(2 * INTERVAL);
        // Trust: the newest snapshot height and its hash, as an operator copies them from a node they trust.
        const trustHeight = Math.floor(head / INTERVAL) * INTERVAL;
        const trustHash = await headerHash(net, 1, trustHeight);
        editJson(join(net.nodes[JOINER]!.home, "config.json"), (c) => ({
          ...c,
          statesync: { enable: true, trustHeight, trustHash },
        }));
        await net.start(JOINER);

        // It joined at a snapshot at or above the trusted height: no body at or below that.
        const body = await fetch(`${net.urls[JOINER]}/v1/blocks/${trustHeight}`);
        expect(body.status).toBe(410);
        expect((await fetch(`${net.urls[JOINER]}/v1/blocks/1`)).status).toBe(410);
        // It reaches the head and follows consensus.
        await net.waitForHeight(head, [JOINER]);
        const after = await net.transfer(JOINER);
        await net.waitCommitted([after], JOINER);
        await net.waitCommitted([after], 0);

        // Its proofs verify in the SDK (certificate, header, state proof), against genesis.
        const client = createClient({
          url: net.urls[JOINER]!,
          chainId: net.chainId,
          trust: { genesisHash: genesisHashOf(net.nodes[0]!.home) },
        });
        const account = await client.getAccount({ address: net.fundedAddress });
        expect(account.nonce).toBe(25);
        // The invariants walk every node's headers from height 1, which a node that
        // joined by state sync does not have (by design): they are checked on the others.
        await net.kill(JOINER);
      },
    ));
});
