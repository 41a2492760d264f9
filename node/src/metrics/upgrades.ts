/**
 * The upgrade metrics: the protocol version the next block is built under,
 * the next scheduled activation, and the schedule itself as an info metric
 * labelled by a digest of it. The schedule is not in the genesis hash
 * (protocol/upgrades.ts), so a validator whose genesis file missed an edit
 * would find out only at the activation height, by refusing the blocks the
 * others build. The same label on every validator before then is what an
 * operator checks (deploy/prometheus: a schedule differs across nodes).
 */
import {
  protocolVersionAt,
  sha256,
  toHex,
  type UpgradeSchedule,
  utf8,
} from "@edgeledger/sdk/protocol";
import { Gauge, type Registry } from "prom-client";

export interface UpgradeView {
  /** False while a state sync join writes the state: no head yet, the two gauges read 0. */
  readonly opened: boolean;
  readonly head: { readonly height: number };
  readonly upgrades: UpgradeSchedule;
}

/** A short digest naming a schedule: equal on two nodes exactly when their schedules are. */
export function scheduleDigest(schedule: UpgradeSchedule): string {
  const text = schedule.map((u) => `${u.height}:${u.version}`).join(",");
  return toHex(sha256(utf8(text))).slice(0, 16);
}

export function registerUpgradeMetrics(registry: Registry, chain: UpgradeView): void {
  new Gauge({
    name: "edgeledger_protocol_version",
    help: "Protocol version the next block (height + 1) is built under (0: no head yet, state-syncing)",
    registers: [registry],
    collect() {
      if (!chain.opened) this.reset();
      else this.set(protocolVersionAt(chain.upgrades, chain.head.height + 1));
    },
  });
  new Gauge({
    name: "edgeledger_upgrade_next_height",
    help: "Height of the next scheduled protocol activation above the head (0: none)",
    registers: [registry],
    collect() {
      if (!chain.opened) return this.reset();
      const next = chain.upgrades.find((u) => u.height > chain.head.height);
      this.set(next?.height ?? 0);
    },
  });
  const digest = scheduleDigest(chain.upgrades);
  new Gauge({
    name: "edgeledger_upgrade_schedule_info",
    help: "1, labelled by a digest of the genesis upgrade schedule this node holds (compare across nodes)",
    labelNames: ["schedule", "activations"] as const,
    registers: [registry],
  }).set({ schedule: digest, activations: String(chain.upgrades.length) }, 1);
}
