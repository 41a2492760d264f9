import type { PeerId } from "@libp2p/interface";
import { afterEach, describe, expect, it } from "vitest";
import { bindTopic, type GossipVerdict } from "./gossip.ts";
import { createHost, decodePeerKey, type Host, newPeerKey } from "./host.ts";
import { topicName } from "./topics.ts";

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("libp2p host and gossip", () => {
  it("keeps its peer identity across encode/decode", async () => {
    const { key, encoded } = await newPeerKey();
    const first = await createHost(key, "net-test");
    const second = await createHost(decodePeerKey(encoded), "net-test");
    hosts.push(first, second);
    expect(first.peerId.equals(second.peerId)).toBe(true);
  });

  it("delivers accepted messages once, and never delivers rejected ones", async () => {
    const a = await createHost((await newPeerKey()).key, "net-test");
    const b = await createHost((await newPeerKey()).key, "net-test");
    hosts.push(a, b);
    await b.dial(a.getMultiaddrs()[0]!);
    const topic = topicName("net-test", "txs");
    const seen: { value: string; from: PeerId }[] = [];
    const verdicts: GossipVerdict[] = [];
    bindTopic<string>(b, topic, {
      async validate(data) {
        const verdict: GossipVerdict = data[0] === 0xff ? "reject" : "accept";
        verdicts.push(verdict);
        return { verdict, value: Buffer.from(data).toString("hex") };
      },
      onMessage: (value, from) => seen.push({ value, from }),
    });
    bindTopic<string>(a, topic, {
      validate: async () => ({ verdict: "ignore" }),
      onMessage: () => undefined,
    });
    await until(() => a.services.pubsub.getSubscribers(topic).some((p) => p.equals(b.peerId)));

    await a.services.pubsub.publish(topic, Uint8Array.of(0xff, 1));
    await a.services.pubsub.publish(topic, Uint8Array.of(1, 2, 3));
    await a.services.pubsub.publish(topic, Uint8Array.of(1, 2, 3)); // same id: not sent again
    await until(() => seen.length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((s) => s.value)).toEqual(["010203"]);
    expect(seen[0]!.from.equals(a.peerId)).toBe(true);
    expect(verdicts).toEqual(["reject", "accept"]);
  });
});
