// The README's quick start (npm run quickstart, with `npm start` running).
import { readFileSync } from "node:fs";
import { createClient, localSigner, SecretKey } from "@edgeledger/sdk";

const home = process.env["EDGELEDGER_HOME"] ?? ".edgeledger/dev";
const client = createClient({
  url: process.env["EDGELEDGER_URL"] ?? "http://127.0.0.1:8545",
  chainId: "edgeledger-dev",
  trust: { genesisHash: process.env["GENESIS_HASH"] ?? "" }, // printed by `npm start`
});
const dev = SecretKey.fromHex(
  JSON.parse(readFileSync(`${home}/dev_account.json`, "utf8")).secretKey,
);
const to = "el1kpyvt749ulrrcfytdt4j8t3tw6cukg78g48hvc";
const sent = await client.transfer({ signer: localSigner(dev), to, amount: 25n });
const receipt = await sent.wait();
const { balance, height } = await client.getAccount({ address: to });
console.log(
  `final in block ${receipt.height}; ${to} holds ${balance} at height ${height} (verified)`,
);
