/**
 * Validator-set changes by vote: the validators vote a full node in; it
 * signs blocks from the height the change takes effect (two after the
 * block that adopted it), which lets the network survive a validator going
 * down; then they vote the dead one out, and it comes back as a full node.
 * The invariant checker follows every set change through the headers.
 */
import { api } from "@edgeledger/node/testing";
import type { BlockJson, StatusJson, ValidatorsJson } from "@edgeledger/sdk/api";
import { toHex } from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import { withNetwork } from "../src/network.ts";

describe("validator-set changes", () => {
  it("votes a full node in and a dead validator out; each change takes effect two heights later", () =>
    withNetwork({ validators: 4, fullNodes: 1 }, async (net) => {
      const newcomer = toHex(net.keyOf(4).publicKey);
      const setAt = async (height?: number) =>
        (
          await api<ValidatorsJson>(
            `${net.urls[0]}/v1/validators${height === undefined ? "" : `?height=${height}`}`,
          )
        ).body;
      // The newest set known: a change adopted at the head signs from head + 2.
      const latestSet = async () => setAt((await net.height(0)) + 2);
      expect((await net.status(4))?.validator).toBeNull();

      // Three of four votes (more than 2/3) add node 4.
      const votes = [0, 1, 2].map((i) => net.voteValidator(i, 4, 1n));
      for (const hash of await Promise.all(votes)) await net.waitCommitted([hash], 0);
      await net.waitUntil("node 4 in the set", async () =>
        (await latestSet()).validators.some((v) => v.publicKey === newcomer),
      );
      // The change is adopted in block h and signs from h + 2: find h from the receipts.
      const adopted = Math.max(
        ...(await Promise.all(
          (
            await Promise.all(votes)
          ).map(
            async (hash) =>
              (
                await api<{ receipt: { height: number } }>(`${net.urls[0]}/v1/transactions/${hash}`)
              ).body.receipt.height,
          ),
        )),
      );
      // Blocks come with transactions (or the heartbeat): send some to reach adopted + 2.
      while ((await net.height(0)) < adopted + 2)
        await net.waitCommitted([await net.transfer(0)], 0);
      expect((await setAt(adopted + 1)).validators).toHaveLength(4);
      expect((await setAt(adopted + 2)).validators).toHaveLength(5);
      await net.waitUntil("node 4 reports itself a validator", async () =>
        Boolean((await net.status(4))?.validator),
      );

      // With five validators, one may fail: node 3 goes down and blocks still finalize,
      // each signed by node 4 among the four live ones.
      await net.kill(3);
      const during = await net.transfer(0);
      await net.waitCommitted([during], 0, 45_000);
      const { receipt } = (
        await api<{ receipt: { height: number } }>(`${net.urls[0]}/v1/transactions/${during}`)
      ).body;
      const block = (await api<BlockJson>(`${net.urls[0]}/v1/blocks/${receipt.height}`)).body;
      const signers = (await setAt(receipt.height)).validators;
      const newcomerIndex = signers.findIndex((v) => v.publicKey === newcomer);
      expect(block.block.certificate.signatures.map((s) => s.validatorIndex)).toContain(
        newcomerIndex,
      );

      // Four of five vote the dead validator out; it returns as a full node and syncs.
      const out = toHex(net.keyOf(3).publicKey);
      for (const hash of await Promise.all([0, 1, 2, 4].map((i) => net.voteValidator(i, 3, 0n))))
        await net.waitCommitted([hash], 0, 45_000);
      await net.waitUntil("node 3 out of the set", async () =>
        (await latestSet()).validators.every((v) => v.publicKey !== out),
      );
      // Past the height where it leaves, so node 3's absence matters no more.
      const removedAt = (await net.height(0)) + 2;
      while ((await net.height(0)) < removedAt) await net.waitCommitted([await net.transfer(0)], 0);
      await net.start(3);
      const head = await net.height(0);
      await net.waitForHeight(head, [3], 45_000);
      const status = (await api<StatusJson>(`${net.urls[3]}/v1/status`)).body;
      expect(status.validator).toBeNull();
      await net.waitCommitted([await net.transfer(3)], 0);
    }));
});
