/**
 * Upgrades (docs/operations.md#upgrades), on real processes:
 *
 *   - rolling restart: the four validators are stopped (SIGTERM, as an
 *     operator does) and started again one by one while transfers keep
 *     coming; the network never goes LIVENESS_BOUND_MS without a new height
 *     (3 of 4 commit; the bound is one round-0 propose timeout of 3 s when
 *     the stopped node is the proposer, then round 1, with slack for a busy
 *     2-core machine), every transaction a node accepted is committed on
 *     every node, and the invariants (one chain everywhere) hold;
 *   - scheduled activation: a genesis that activates protocol version 2 at
 *     height H; a transfer to oneself is committed before H and refused by
 *     every node after it, every block from H on names version 2 and the
 *     ones before version 1, on every node, with the same hashes.
 */
import { api, sleep } from "@edgeledger/node/testing";
import type { CertifiedHeaderJson, StatusJson, TransactionStatusJson } from "@edgeledger/sdk/api";
import { addressFromPublicKey } from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import { type TestNetwork, withNetwork } from "../src/network.ts";

const LIVENESS_BOUND_MS = 10_000;

/** Polls the running validators' highest height; records the longest stretch without a new one. */
function watchLiveness(net: TestNetwork) {
  let best = -1;
  let since = Date.now();
  let longest = 0;
  let done = false;
  const watching = (async () => {
    while (!done) {
      const heights = await net.heights(net.running().map((n) => n.index));
      const top = Math.max(-1, ...heights);
      const now = Date.now();
      if (top > best) {
        if (best >= 0) longest = Math.max(longest, now - since);
        best = top;
        since = now;
      }
      await sleep(100);
    }
    longest = Math.max(longest, Date.now() - since);
  })();
  return {
    stop: async () => {
      done = true;
      await watching;
      return longest;
    },
  };
}

/** Submits transfers one at a time through running nodes other than `paused`, until stopped. */
function feed(net: TestNetwork) {
  const state = { paused: -1, done: false, errors: [] as string[], inflight: Promise.resolve() };
  let turn = 0;
  const loop = (async () => {
    while (!state.done) {
      const targets = net.running().filter((n) => n.index !== state.paused);
      const target = targets[turn++ % Math.max(1, targets.length)];
      if (target) {
        state.inflight = net.transfer(target.index).then(
          () => undefined,
          (err: Error) => {
            state.errors.push(`via ${target.index}: ${err.message}`);
          },
        );
        await state.inflight;
      }
      await sleep(100);
    }
  })();
  return {
    state,
    /** Stops sending through `i` and waits for a request in flight to it to finish. */
    pause: async (i: number) => {
      state.paused = i;
      await state.inflight;
    },
    stop: async () => {
      state.done = true;
      await loop;
    },
  };
}

describe("rolling restart", () => {
  it(
    `restarts the 4 validators one by one under load, never ${LIVENESS_BOUND_MS / 1000} s without a height, losing nothing`,
    () =>
      withNetwork({ validators: 4 }, async (net) => {
        await net.waitCommitted([await net.transfer(0)], 0);
        const liveness = watchLiveness(net);
        const load = feed(net);
        try {
          for (const i of [0, 1, 2, 3]) {
            // Drain: what was sent through i is final before i goes (its mempool is in memory).
            await load.pause(i);
            await net.waitCommitted([...net.submitted], (i + 1) % 4, 60_000);
            await net.shutdown(i);
            // While it is down, the other three commit.
            const others = [0, 1, 2, 3].filter((o) => o !== i);
            const top = Math.max(...(await net.heights(others)));
            await net.waitForHeight(top + 3, others, 60_000);
            await net.start(i);
            // Before the next step: the restarted node is back at the others' height.
            const head = Math.max(...(await net.heights(others)));
            await net.waitForHeight(head, [i], 60_000);
            load.state.paused = -1;
          }
        } finally {
          await load.stop();
        }
        const longest = await liveness.stop();
        console.log(
          `rolling restart: ${net.submitted.size} transfers, longest stretch without a new height ${longest} ms (bound ${LIVENESS_BOUND_MS} ms)`,
        );
        expect(load.state.errors).toEqual([]);
        expect(longest).toBeLessThan(LIVENESS_BOUND_MS);
        // Every transaction accepted anywhere is committed everywhere.
        const all = [...net.submitted];
        expect(all.length).toBeGreaterThan(20);
        for (const n of net.nodes) await net.waitCommitted(all, n.index, 60_000);
      }),
    300_000,
  );
});

describe("scheduled activation", () => {
  const H = 8;
  it(
    `activates version 2 at height ${H}: a self-transfer commits before, is refused after, on every node`,
    () =>
      withNetwork({ validators: 4, upgrades: [{ height: H, version: 2 }] }, async (net) => {
        const self = addressFromPublicKey(net.funded.publicKey);
        // Well before H (the next height is version 1 on every node): accepted and committed.
        const early = await net.submitTransfer(0, 1n, self);
        expect(early.status).toBe(202);
        const earlyHash = early.body["hash"] as string;
        for (const n of net.nodes) await net.waitCommitted([earlyHash], n.index);
        const at = await api<TransactionStatusJson>(`${net.urls[0]}/v1/transactions/${earlyHash}`);
        expect(at.body.block?.header.height).toBeLessThan(H);
        // Every node reports the schedule it holds and the next block's version (status, metrics).
        for (const u of net.urls) {
          const status = (await api<StatusJson>(`${u}/v1/status`)).body;
          expect(status.upgrades).toEqual([{ height: H, version: 2 }]);
          if (status.height < H - 1) expect(status.protocolVersion).toBe(1);
          const metrics = await (await fetch(`${u}/metrics`)).text();
          expect(metrics).toMatch(new RegExp(`^edgeledger_upgrade_next_height ${H}$`, "m"));
        }

        // Ordinary transfers carry the chain past H.
        await net.progress([0, 1, 2, 3], H, 60_000);
        await net.waitForHeight(H + 1);

        // After H, every node refuses it at admission, with the typed code.
        for (const n of net.nodes) {
          const late = await net.submitTransfer(n.index, 1n, self);
          expect(late.status).toBe(400);
          expect(late.body["code"]).toBe("TX_SELF_TRANSFER");
        }
        // Other transfers still commit.
        const after = await net.transfer(1);
        for (const n of net.nodes) await net.waitCommitted([after], n.index);

        for (const u of net.urls) {
          expect((await api<StatusJson>(`${u}/v1/status`)).body.protocolVersion).toBe(2);
          const metrics = await (await fetch(`${u}/metrics`)).text();
          expect(metrics).toMatch(/^edgeledger_protocol_version 2$/m);
          expect(metrics).toMatch(/^edgeledger_upgrade_next_height 0$/m);
        }
        // Each node names version 1 below H and 2 from H on, with the same hashes.
        for (const height of [H - 1, H, H + 1]) {
          const headers = await Promise.all(
            net.urls.map((u) => api<CertifiedHeaderJson>(`${u}/v1/headers/${height}`)),
          );
          const want = height < H ? 1 : 2;
          for (const h of headers) expect(h.body.header.protocolVersion).toBe(want);
          expect(new Set(headers.map((h) => h.body.header.hash)).size).toBe(1);
        }
      }),
    180_000,
  );
});
