/**
 * A Byzantine validator (the test-only build, equivocating): next to every
 * prevote for a block it signs and sends a nil prevote for the same round.
 * The three honest validators stay live and safe, detect the conflicting
 * pair, gossip it, and record it on chain as evidence anyone can check.
 */
import { api } from "@edgeledger/node/testing";
import type { BlockJson } from "@edgeledger/sdk/api";
import { decodeEvidence, fromHex, verifyEvidence } from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
import { describe, expect, it } from "vitest";
import { withNetwork } from "../src/network.ts";

describe("a Byzantine validator", () => {
  it("equivocates; the honest three keep finalizing and record the evidence on chain", () =>
    withNetwork({ validators: 4, faults: { 3: { equivocate: true } } }, async (net) => {
      const liar = (await net.status(3))?.validator?.publicKey;
      expect(liar).toBeDefined();
      const hashes: string[] = [];
      for (let i = 0; i < 12; i++) {
        hashes.push(await net.transfer(i % 3));
        if (i % 4 === 3) await net.waitCommitted(hashes.slice(-1), 0);
      }
      await net.waitCommitted(hashes, 0, 45_000);

      // Find the block that recorded its equivocation (on an honest node).
      let found: BlockJson["evidence"][number] | undefined;
      await net.waitUntil("evidence against node 3 on chain", async () => {
        const head = await net.height(0);
        for (let h = 1; h <= head && !found; h++) {
          const block = (await api<BlockJson>(`${net.urls[0]}/v1/blocks/${h}`)).body;
          found = block.evidence.find((e) => e.validator === liar);
        }
        if (!found) await net.transfer(0); // more rounds, more chances to be seen
        return found !== undefined;
      });
      // It proves itself: two conflicting votes signed by node 3's key.
      const evidence = decodeEvidence(fromHex(found!.evidenceBytes));
      const set = (
        await api<{ validators: { publicKey: string; power: string }[] }>(
          `${net.urls[0]}/v1/validators?height=${found!.height}`,
        )
      ).body.validators.map((v) => ({ publicKey: fromHex(v.publicKey), power: BigInt(v.power) }));
      await verifyEvidence(net.chainId, evidence, set, createNativeVerifier());
      expect(found!.blockHashes).toContain(null);
    }));
});
