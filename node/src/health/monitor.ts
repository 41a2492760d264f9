/**
 * Health as a running node keeps it: the facts of health.ts read from the
 * chain, the host and block sync whenever asked, and again on every new
 * head and once a second, so that a change of state (ready → syncing…) is
 * seen, logged and counted even when nobody asks: a late node's sync can
 * be over before any probe comes.
 */
import type { NodeHealthJson } from "@edgeledger/sdk/api";
import { equalBytes } from "@edgeledger/sdk/protocol";
import type { Chain } from "../chain/chain.ts";
import { assessHealth, type HealthVerdict } from "./health.ts";

export interface HealthMonitorDeps {
  readonly chain: Pick<Chain, "head" | "validatorsAt" | "onHead">;
  /** Connected peers. */
  readonly peers: () => number;
  /** BlockSync.bestPeerHeight. */
  readonly bestPeerHeight: () => number;
  /** Asked at each report: a remote signer names the key only once it connects. */
  readonly validatorKey: () => Uint8Array;
  readonly haltHeight: number | null;
  readonly stallMs: number;
  readonly now: () => number;
  /** Each change of state, the first report included (`from` null). */
  readonly onChange: (report: HealthVerdict, from: NodeHealthJson["status"] | null) => void;
  /** How often to look without being asked (ms); default 1000. */
  readonly everyMs?: number;
}

export interface HealthMonitor {
  /** The report now (and a change noted, if it is one). */
  report(): HealthVerdict;
  stop(): void;
}

export function startHealthMonitor(deps: HealthMonitorDeps): HealthMonitor {
  const { chain } = deps;
  let last: NodeHealthJson["status"] | null = null;
  const report = (): HealthVerdict => {
    const head = chain.head;
    const next = chain.validatorsAt(head.height + 1);
    const key = deps.validatorKey();
    const validator = next.some((v) => equalBytes(v.publicKey, key));
    const health = assessHealth({
      height: head.height,
      headTime: head.header.time,
      now: deps.now(),
      peers: deps.peers(),
      needsPeers: !(validator && next.length === 1),
      validator,
      bestPeerHeight: deps.bestPeerHeight(),
      haltHeight: deps.haltHeight,
      stallMs: deps.stallMs,
    });
    if (health.status !== last) {
      const from = last;
      last = health.status;
      deps.onChange(health, from);
    }
    return health;
  };
  report();
  const offHead = chain.onHead(() => void report());
  const timer = setInterval(report, deps.everyMs ?? 1000);
  timer.unref();
  return {
    report,
    stop: () => {
      clearInterval(timer);
      offHead();
    },
  };
}
