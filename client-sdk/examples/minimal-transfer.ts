/**
 * The smallest useful browser app, measured by the build (scripts/bundle-size.ts):
 * a transfer, its finality, and the recipient's verified balance. Nothing else,
 * so its bundle is what a dapp pays for the SDK's client.
 */
import { createClient, localSigner, SecretKey } from "@edgeledger/sdk";

const client = createClient({
  url: "http://127.0.0.1:8545",
  chainId: "edgeledger-dev",
  trust: { genesisHash: "00".repeat(32) },
});
const to = "el1kpyvt749ulrrcfytdt4j8t3tw6cukg78g48hvc";
const sent = await client.transfer({ signer: localSigner(SecretKey.generate()), to, amount: 1n });
await client.waitForFinality({ hash: sent.hash });
const { balance } = await client.getAccount({ address: to });
console.log(balance);
