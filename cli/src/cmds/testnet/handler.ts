/** `edgeledger testnet`: writes the homes with node's `testnet` and lists them with their API URLs. */
import { testnet } from "@edgeledger/node/homes";
import type { TestnetArgs } from "./options.ts";

export async function testnetHandler(args: TestnetArgs): Promise<void> {
  const r = await testnet(args);
  console.log(r.homes.map((h, i) => `${h}  API ${r.apiUrls[i]}`).join("\n"));
  console.log(`start each with: npm run edgeledger -- start --home <home>`);
}
