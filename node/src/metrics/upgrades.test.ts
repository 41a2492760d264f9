import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { registerUpgradeMetrics, scheduleDigest } from "./upgrades.ts";

const value = async (registry: Registry, name: string) =>
  (await registry.getSingleMetric(name)?.get())?.values;

describe("upgrade metrics", () => {
  it("follow the head through the schedule", async () => {
    const registry = new Registry();
    const chain = {
      opened: true,
      head: { height: 3 },
      upgrades: [
        { height: 5, version: 2 },
        { height: 9, version: 3 },
      ],
    };
    registerUpgradeMetrics(registry, chain);
    expect((await value(registry, "edgeledger_protocol_version"))?.[0]?.value).toBe(1);
    expect((await value(registry, "edgeledger_upgrade_next_height"))?.[0]?.value).toBe(5);
    chain.head = { height: 4 }; // the next block, 5, is the first of version 2
    expect((await value(registry, "edgeledger_protocol_version"))?.[0]?.value).toBe(2);
    expect((await value(registry, "edgeledger_upgrade_next_height"))?.[0]?.value).toBe(5);
    chain.head = { height: 9 };
    expect((await value(registry, "edgeledger_protocol_version"))?.[0]?.value).toBe(3);
    expect((await value(registry, "edgeledger_upgrade_next_height"))?.[0]?.value).toBe(0);
    const info = await value(registry, "edgeledger_upgrade_schedule_info");
    expect(info?.[0]?.labels).toEqual({
      schedule: scheduleDigest(chain.upgrades),
      activations: "2",
    });
  });

  it("read 0, and the scrape still answers, before the chain opens (a state sync join)", async () => {
    const registry = new Registry();
    const unopened = {
      opened: false,
      get head(): { height: number } {
        throw new TypeError("Cannot read properties of undefined (reading 'height')");
      },
      upgrades: [{ height: 5, version: 2 }],
    };
    registerUpgradeMetrics(registry, unopened);
    const text = await registry.metrics();
    expect(text).toMatch(/^edgeledger_protocol_version 0$/m);
    expect(text).toMatch(/^edgeledger_upgrade_next_height 0$/m);
    expect(text).toMatch(/^edgeledger_upgrade_schedule_info\{.*\} 1$/m);
  });

  it("name two schedules alike exactly when they are equal", () => {
    const a = [{ height: 5, version: 2 }];
    expect(scheduleDigest(a)).toBe(scheduleDigest([{ height: 5, version: 2 }]));
    expect(scheduleDigest(a)).not.toBe(scheduleDigest([{ height: 6, version: 2 }]));
    expect(scheduleDigest(a)).not.toBe(scheduleDigest([]));
    // Joined text must not let two lists collide: 1:2,3:4 is not 1:23:4.
    expect(scheduleDigest([{ height: 12, version: 3 }])).not.toBe(
      scheduleDigest([
        { height: 1, version: 2 },
        { height: 3, version: 4 },
      ]),
    );
  });
});
