/**
 * Pruning on real processes: validator 0 keeps the state of its last 5
 * heights and the bodies of its last 10 blocks. It keeps voting and
 * serving current proofs that the SDK verifies, refuses a proof at a pruned
 * height with STATE_PRUNED (naming the oldest height it has) and a dropped
 * body with BLOCK_PRUNED, still serves every header, and a full node that
 * joins late syncs the whole chain from the archive validators (the pruned
 * one refuses the old range with SYNC_PRUNED, at no cost to it). Killed
 * with -9 and started again, it serves verifiable proofs at the oldest and
 * newest heights it keeps. Its automatic compaction (set to run after
 * every deleted node here) runs while it commits: the metrics count
 * compactions, and blocks keep coming.
 */
import { genesisHashOf } from "@edgeledger/node/testing";
import { ApiError, createClient } from "@edgeledger/sdk";
import { describe, expect, it } from "vitest";
import { withNetwork } from "../src/network.ts";

const KEEP_RECENT = 5;
const RETAIN_BLOCKS = 10;

describe("a pruning validator", () => {
  it("serves verified current state, refuses pruned heights with typed errors, and a late node still syncs", () =>
    withNetwork(
      {
        validators: 4,
        fullNodes: 1,
        startLater: [4],
        config: {
          0: {
            pruning: { keepRecent: KEEP_RECENT, retainBlocks: RETAIN_BLOCKS, compactAfterNodes: 1 },
          },
        },
      },
      async (net) => {
        const sent: string[] = [];
        for (let i = 0; i < 30; i++) {
          sent.push(await net.transfer(i % 4));
          // Each in a block of its own (committed before the next is sent), so
          // that heights surely go out of the window: two at a time could share
          // a block, and the head once stopped at 15 of the 16 needed.
          await net.waitCommitted(sent.slice(-1), 0);
        }
        // On an archive: node 0 forgets the transactions of the bodies it dropped.
        await net.waitCommitted(sent, 1);
        const head = await net.height(0);
        expect(head).toBeGreaterThan(RETAIN_BLOCKS + 5);

        const client = createClient({
          url: net.urls[0]!,
          chainId: net.chainId,
          trust: { genesisHash: genesisHashOf(net.nodes[0]!.home) },
        });
        // Current state: verified by the SDK (certificate, header, proof).
        const now = await client.getAccount({ address: net.fundedAddress });
        expect(now.nonce).toBe(30);
        // A pruned height: the typed error, with the oldest height served.
        const pruned = await client.getAccount({ address: net.fundedAddress, height: 1 }).then(
          () => null,
          (err: unknown) => err,
        );
        expect(pruned).toBeInstanceOf(ApiError);
        expect(pruned).toMatchObject({ code: "STATE_PRUNED" });
        const oldest = (pruned as ApiError).details?.["oldest"] as number;
        expect(oldest).toBeGreaterThan(head - KEEP_RECENT - 3);
        // Raw HTTP: 410, a dropped body refused, its header still served.
        const old = await fetch(`${net.urls[0]}/v1/accounts/${net.fundedAddress}?height=1`);
        expect(old.status).toBe(410);
        const body = await fetch(`${net.urls[0]}/v1/blocks/1`);
        expect(body.status).toBe(410);
        expect(((await body.json()) as { code: string }).code).toBe("BLOCK_PRUNED");
        expect((await fetch(`${net.urls[0]}/v1/headers/1`)).status).toBe(200);
        // An archive validator still answers height 1.
        expect(
          (await fetch(`${net.urls[1]}/v1/accounts/${net.fundedAddress}?height=1`)).status,
        ).toBe(200);

        // Compactions ran (the first 30 blocks each deleted nodes), and the node committed meanwhile.
        const compactions = async () => {
          const text = await (await fetch(`${net.urls[0]}/metrics`)).text();
          return Number(/^edgeledger_db_compactions_total (\d+)$/m.exec(text)?.[1] ?? -1);
        };
        const compacted = await compactions();
        expect(compacted).toBeGreaterThan(0);
        const more = [await net.transfer(1), await net.transfer(2)];
        await net.waitCommitted(more, 0);
        expect(await compactions()).toBeGreaterThanOrEqual(compacted);

        // A late full node syncs from genesis (from the archive peers).
        await net.start(4);
        await net.waitForHeight(head, [4]);
        const late = await net.transfer(4);
        await net.waitCommitted([late], 0);
        await net.waitCommitted([late], 4);

        // Killed (-9) while it commits and prunes, and started again: it
        // follows consensus again, and proofs at the oldest and the newest
        // height it serves verify (the unit tests walk whole trees).
        const during = [await net.transfer(1), await net.transfer(2)];
        await net.kill(0);
        during.push(await net.transfer(1));
        await net.waitCommitted(during, 1);
        await net.start(0);
        await net.waitCommitted(during, 0);
        const after = await net.height(0);
        const first = await client.getAccount({ address: net.fundedAddress, height: 1 }).then(
          () => null,
          (err: unknown) => (err as ApiError).details?.["oldest"] as number,
        );
        expect(first).toBeGreaterThan(0);
        for (const height of [first!, after])
          expect((await client.getAccount({ address: net.fundedAddress, height })).height).toBe(
            height,
          );
      },
    ));
});
