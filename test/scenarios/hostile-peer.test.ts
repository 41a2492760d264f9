/**
 * Peers without a key, hostile on every protocol (node/src/testing/hostilePeer.ts,
 * run in this test process): one answers block sync, catch-up and mempool
 * pull with garbage and floods the consensus topic with invalid messages;
 * one answers with huge replies; one stalls every stream and opens streams
 * to a validator that it never reads. The validators keep finalizing, a full
 * node that joins late syncs to the head past them, every node stays under
 * 1 GiB, and the gossip flooder is cut off; then withNetwork's invariants,
 * I4 included (the auditor syncs with no hostile peer left to help it).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type HostilePeer, sleep, startHostilePeer } from "@edgeledger/node/testing";
import { describe, expect, it } from "vitest";
import { type NetNode, withNetwork } from "../src/network.ts";

/** A node's p2p address with its peer id, from the config testnet wrote. */
function p2pAddress(node: NetNode): string {
  const config = JSON.parse(readFileSync(join(node.home, "config.json"), "utf8")) as {
    network: { listen: string[] };
  };
  return `${config.network.listen[0]}/p2p/${node.peerId}`;
}

describe("hostile peers without a key", () => {
  it("garbage, huge replies, stalls and invalid gossip: the network goes on, a late node syncs past them, the flooder is cut off", () =>
    withNetwork({ validators: 4, fullNodes: 1, startLater: [4] }, async (net) => {
      await net.progress([0, 1, 2, 3], 4, 60_000);
      const late = net.nodes[4]!;
      await net.start(4);
      const peers: HostilePeer[] = [];
      try {
        for (const [i, behaviour] of (["garbage", "huge", "stall"] as const).entries())
          peers.push(
            await startHostilePeer({
              chainId: net.chainId,
              target: p2pAddress(i === 2 ? net.nodes[0]! : late),
              behaviour,
              seed: i + 1,
              maxSendBytes: 64 * 1024 * 1024,
            }),
          );
        const [flooder, , staller] = peers as [HostilePeer, HostilePeer, HostilePeer];
        // Streams to validator 0 that are never read.
        const stalled = await staller.stallStreams("catchup", 8);
        // Invalid consensus gossip, to the late node, until it cuts us off.
        const topic = `/edgeledger/${net.chainId}/consensus/1`;
        const lateId = flooder.host
          .getConnections()
          .find((c) => c.remotePeer.toString() === late.peerId)?.remotePeer;
        flooder.host.services.pubsub.subscribe(topic);
        let cutOff = false;
        const flooding = (async () => {
          for (let i = 0; i < 600 && !cutOff; i++) {
            await flooder.host.services.pubsub
              .publish(topic, Uint8Array.of(9, 9, i & 0xff, i >> 8))
              .catch(() => undefined);
            cutOff = flooder.host
              .getConnections()
              .every((c) => c.remotePeer.toString() !== late.peerId);
            await sleep(50);
          }
        })();

        const p = await net.progress([0, 1, 2, 3], 6, 60_000);
        await net.waitForHeight(await net.height(0), [4], 60_000);
        await flooding;
        expect(cutOff, "the gossip flooder is disconnected").toBe(true);
        // It cannot come back: the late node refuses it for the ban period.
        const redial = lateId
          ? await flooder.host.dial(lateId).then(
              () => "connected",
              () => "refused",
            )
          : "refused";
        if (redial === "connected") {
          await sleep(500);
          expect(
            flooder.host.getConnections().some((c) => c.remotePeer.toString() === late.peerId),
          ).toBe(false);
        }
        // The stalled streams were reset by validator 0 within its deadlines.
        await net.waitUntil("stalled streams reset", async () => stalled.open() === 0, 45_000);
        for (const [i, mib] of Object.entries(p.peakRssMiB))
          expect(mib, `node ${i} peak RSS`).toBeLessThan(1024);
        console.log(
          `with hostile peers: ${p.rate.toFixed(2)} blocks/s; peak RSS ${Object.values(p.peakRssMiB).join(" / ")} MiB; hostile replies sent ${peers.map((h) => h.stats.bytesSent).join(" / ")} bytes`,
        );
      } finally {
        await Promise.all(peers.map((h) => h.stop()));
      }
    }));
});
