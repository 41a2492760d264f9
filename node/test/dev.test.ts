/**
 * The dev chain's convenience route: the node signs from its dev account.
 * Only where enabled, and enabling it is refused unless the chain is a dev
 * chain (`isDevChainId`).
 */
import type { AccountJson, TransactionStatusJson } from "@edgeledger/sdk/api";
import { addressFromPublicKey, formatAddress, SecretKey } from "@edgeledger/sdk/protocol";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/errors.ts";
import { createNode } from "../src/node.ts";
import { api, cleanup, makeHome, post, sleep } from "../src/testing/harness.ts";

afterAll(cleanup);

describe("dev transfer", () => {
  it("moves funds from the dev account, several in a row, and only where enabled", async () => {
    const home = await makeHome("edgeledger-dev-test", 1000n);
    const node = createNode(home.home, {
      apiPort: 0,
      logger: pino({ level: "silent" }),
      devKey: home.funded,
    });
    const { apiUrl } = await node.start();
    try {
      const to = formatAddress(addressFromPublicKey(SecretKey.generate().publicKey));
      const hashes: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await post(`${apiUrl}/v1/dev/transfer`, { to, amount: "25" });
        expect(res.status).toBe(202);
        hashes.push(res.body["hash"] as string);
      }
      for (const hash of hashes) {
        let status = "pending";
        for (let i = 0; i < 200 && status === "pending"; i++) {
          status = (await api<TransactionStatusJson>(`${apiUrl}/v1/transactions/${hash}`)).body
            .status;
          if (status === "pending") await sleep(20);
        }
        expect(status).toBe("committed");
      }
      expect((await api<AccountJson>(`${apiUrl}/v1/accounts/${to}`)).body.account).toEqual({
        balance: "75",
        nonce: 0,
      });
      const overdraft = await post(`${apiUrl}/v1/dev/transfer`, { to, amount: "100000" });
      expect(overdraft.body["code"]).toBe("TX_INSUFFICIENT_BALANCE");
      // 39 digits pass the schema but not u128: a typed 400, not a 500 from the encoder.
      const huge = await post(`${apiUrl}/v1/dev/transfer`, { to, amount: "9".repeat(39) });
      expect(huge.status).toBe(400);
      expect(huge.body["code"]).toBe("TX_INVALID_AMOUNT");
    } finally {
      await node.stop();
    }
    // The same home started as a real node has no such route.
    const plain = createNode(home.home, { apiPort: 0, logger: pino({ level: "silent" }) });
    const started = await plain.start();
    try {
      const res = await post(`${started.apiUrl}/v1/dev/transfer`, {
        to: home.fundedAddress,
        amount: "1",
      });
      expect(res.status).toBe(404);
    } finally {
      await plain.stop();
    }
  });

  it("is refused on a chain that is not a dev chain (the CLI's refusal: cli/test/start.test.ts)", async () => {
    const home = await makeHome("my-chain", 1000n);
    expect(() => createNode(home.home, { devKey: home.funded })).toThrow(ConfigError);
    expect(() => createNode(home.home, { devKey: home.funded })).toThrow(/not a dev chain/);
  });
});
