import { describe, expect, it } from "vitest";
import type { AccountJson } from "../../api/types.ts";
import { parseAddress } from "../../protocol/address.ts";
import { clientOf, fakeServer, makeServedChain, verdictOf } from "../testing/servedChain.ts";
import { verifyAccountAnswer } from "./getAccount.ts";

describe("verifying an account answer", async () => {
  const chain = await makeServedChain();
  const { a, b, c } = chain.addresses;
  const honest = (address: string, height = chain.head) =>
    chain.account(parseAddress(address), height);
  /** A client that verified the head (3) already: a latest answer is judged against it. */
  const warm = () => clientOf(chain, fakeServer(chain), "warm", chain.head);

  it("accepts the honest answers, present and proven absent", async () => {
    const client = await warm();
    const v = await verifyAccountAnswer(client, await honest(b), { address: b });
    expect([v.exists, v.balance, v.nonce, v.height]).toEqual([true, 25n, 0, chain.head]);
    const none = await verifyAccountAnswer(client, await honest(c), { address: c });
    expect([none.exists, none.balance]).toEqual([false, 0n]);
  });

  it("rejects an answer about another address", async () => {
    const forged = await honest(a);
    expect(await verdictOf(verifyAccountAnswer(await warm(), forged, { address: b }))).toBe(
      "VERIFY_MISMATCH",
    );
  });

  it("rejects a balance or a nonce the state proof does not hold", async () => {
    const json = await honest(b);
    const forgeries: AccountJson[] = [
      { ...json, account: { balance: "26", nonce: 0 } },
      { ...json, account: { balance: "25", nonce: 1 } },
      { ...json, account: null }, // an account that exists, denied
      { ...(await honest(c)), account: { balance: "1", nonce: 0 } }, // one that does not, made up
    ];
    for (const forged of forgeries) {
      const address = forged.address;
      expect(await verdictOf(verifyAccountAnswer(await warm(), forged, { address }))).toBe(
        "VERIFY_PROOF",
      );
    }
  });

  it("rejects another height's state for the height asked", async () => {
    const forged = await honest(b, 2);
    expect(
      await verdictOf(verifyAccountAnswer(await warm(), forged, { address: b, height: 1 })),
    ).toBe("VERIFY_MISMATCH");
    // The answer's own height and its header's must agree too.
    const relabelled = { ...(await honest(b, 1)), height: 2 };
    expect(await verdictOf(verifyAccountAnswer(await warm(), relabelled, { address: b }))).toBe(
      "VERIFY_MISMATCH",
    );
  });

  it("rejects old state served as the latest to a client that verified newer", async () => {
    const client = await warm(); // maxLagBlocks 0: this server never lags
    const old = await honest(b, 1);
    expect(await verdictOf(verifyAccountAnswer(client, old, { address: b }))).toBe("VERIFY_STALE");
    // Asked for that height, the same answer is the right one.
    expect(await verdictOf(verifyAccountAnswer(client, old, { address: b, height: 1 }))).toBe("ok");
  });

  it("turns a field that is not what it claims into VERIFY_INCOMPLETE, not a TypeError", async () => {
    const json = await honest(b);
    const forgeries = [
      { ...json, account: { balance: "lots", nonce: 0 } },
      { ...json, proof: "zz" },
      { ...json, block: { ...json.block, headerBytes: 7 } },
    ] as unknown as AccountJson[];
    for (const forged of forgeries)
      expect(await verdictOf(verifyAccountAnswer(await warm(), forged, { address: b }))).toMatch(
        /^VERIFY_(INCOMPLETE|HEADER|PROOF)$/,
      );
    expect(
      await verdictOf(
        verifyAccountAnswer(
          await warm(),
          { ...json, account: { balance: "lots", nonce: 0 } },
          { address: b },
        ),
      ),
    ).toBe("VERIFY_INCOMPLETE");
  });
});
