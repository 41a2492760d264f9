import { describe, expect, it } from "vitest";
import type { TransactionStatusJson } from "../../api/types.ts";
import { clientOf, fakeServer, makeServedChain, verdictOf } from "../testing/servedChain.ts";
import { verifyTransactionAnswer } from "./getTransaction.ts";

describe("verifying a transaction answer", async () => {
  const chain = await makeServedChain();
  const warm = () => clientOf(chain, fakeServer(chain), "warm", chain.head);
  const paid = chain.transaction(chain.txs.paid)!;
  const verdict = async (json: TransactionStatusJson, hash = chain.txs.paid) =>
    verdictOf(verifyTransactionAnswer(await warm(), json, hash));

  it("proves a committed transaction, and marks pending and dropped unverified", async () => {
    const client = await warm();
    const v = await verifyTransactionAnswer(client, paid, chain.txs.paid);
    expect(v.status === "committed" && [v.height, v.index]).toEqual([1, 0]);
    const pending = chain.transaction(chain.txs.pending)!;
    expect(await verifyTransactionAnswer(client, pending, chain.txs.pending)).toEqual({
      status: "pending",
      hash: chain.txs.pending,
      verified: false,
    });
    const dropped = await verifyTransactionAnswer(
      client,
      chain.transaction(chain.txs.dropped)!,
      chain.txs.dropped,
    );
    expect(dropped.status === "dropped" && dropped.error.code).toBe("TX_NONCE_TOO_HIGH");
  });

  it("rejects a committed answer about another transaction", async () => {
    expect(await verdict(paid, chain.txs.pending)).toBe("VERIFY_MISMATCH");
  });

  it("rejects a receipt its proof or header does not back", async () => {
    expect(await verdict({ ...paid, receipt: { ...paid.receipt!, index: 1 } })).toBe(
      "VERIFY_MISMATCH",
    );
    // The block it claims is final, but the transaction is not in it.
    expect(
      await verdict({
        ...paid,
        receipt: { ...paid.receipt!, height: 2 },
        block: chain.certified(2),
      }),
    ).toBe("VERIFY_PROOF");
    // A receipt for one height, a header for another.
    expect(await verdict({ ...paid, block: chain.certified(2) })).toBe("VERIFY_MISMATCH");
  });

  it("rejects a status the API does not have, even with a committed answer's proofs", async () => {
    for (const status of ["committedx", "Committed", "", "success"])
      expect(await verdict({ ...paid, status } as unknown as TransactionStatusJson), status).toBe(
        "VERIFY_INCOMPLETE",
      );
  });

  it("rejects a committed answer without its proof, receipt or header", async () => {
    for (const missing of ["proof", "receipt", "block"] as const)
      expect(await verdict({ ...paid, [missing]: undefined })).toBe("VERIFY_INCOMPLETE");
  });

  it("rejects a dropped answer whose error is not a code and a message", async () => {
    const dropped = chain.transaction(chain.txs.dropped)!;
    const forged = {
      ...dropped,
      error: { code: 7, message: "x" },
    } as unknown as TransactionStatusJson;
    expect(await verdict(forged, chain.txs.dropped)).toBe("VERIFY_INCOMPLETE");
  });
});
