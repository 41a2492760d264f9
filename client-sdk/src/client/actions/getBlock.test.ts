import { describe, expect, it } from "vitest";
import type { BlockJson } from "../../api/types.ts";
import { blockHash } from "../../protocol/block.ts";
import { toHex } from "../../protocol/bytes.ts";
import { clientOf, fakeServer, makeServedChain, verdictOf } from "../testing/servedChain.ts";
import { verifyBlockAnswer } from "./getBlock.ts";

describe("verifying a block answer", async () => {
  const chain = await makeServedChain();
  const warm = () => clientOf(chain, fakeServer(chain), "warm", chain.head);
  const hashOf = (h: number) => toHex(blockHash(chain.headers[h]!));

  it("accepts the honest block by height, by hash and as the latest", async () => {
    const client = await warm();
    const v = await verifyBlockAnswer(client, chain.block(1), { height: 1 });
    expect([v.hash, v.block.txs.length]).toEqual([hashOf(1), 1]);
    expect(await verdictOf(verifyBlockAnswer(client, chain.block(1), { hash: hashOf(1) }))).toBe(
      "ok",
    );
    expect(await verdictOf(verifyBlockAnswer(client, chain.block(chain.head), {}))).toBe("ok");
  });

  it("rejects contents that are not the certified header's", async () => {
    // Height 2's (empty) block under height 1's certified header: a transaction withheld.
    const forged: BlockJson = { ...chain.block(1), blockBytes: chain.block(2).blockBytes };
    expect(await verdictOf(verifyBlockAnswer(await warm(), forged, { height: 1 }))).toBe(
      "VERIFY_MISMATCH",
    );
  });

  it("rejects another block than the one asked, however well certified", async () => {
    const client = await warm();
    expect(await verdictOf(verifyBlockAnswer(client, chain.block(2), { height: 1 }))).toBe(
      "VERIFY_MISMATCH",
    );
    expect(await verdictOf(verifyBlockAnswer(client, chain.block(2), { hash: hashOf(1) }))).toBe(
      "VERIFY_MISMATCH",
    );
  });

  it("rejects an old block served as the latest", async () => {
    expect(await verdictOf(verifyBlockAnswer(await warm(), chain.block(1), {}))).toBe(
      "VERIFY_STALE",
    );
  });

  it("rejects bytes that are not a block", async () => {
    for (const blockBytes of ["00", "zz", ""])
      expect(
        await verdictOf(
          verifyBlockAnswer(await warm(), { ...chain.block(1), blockBytes }, { height: 1 }),
        ),
      ).toBe("VERIFY_INCOMPLETE");
  });
});
