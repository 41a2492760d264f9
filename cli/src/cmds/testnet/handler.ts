/**
 * `edgeledger testnet`: writes the homes with node's `testnet` and lists them
 * with their API URLs; with --kubernetes, also the same network for
 * deploy/kubernetes (kubernetes.ts).
 */
import { testnet } from "@edgeledger/node/homes";
import { writeKubernetes } from "./kubernetes.ts";
import type { TestnetArgs } from "./options.ts";

export async function testnetHandler(args: TestnetArgs): Promise<void> {
  const { kubernetes, namespace, clusterDomain, ...homes } = args;
  const r = await testnet(homes);
  console.log(r.homes.map((h, i) => `${h}  API ${r.apiUrls[i]}`).join("\n"));
  console.log(`start each with: npm run edgeledger -- start --home <home>`);
  if (kubernetes === undefined) return;
  writeKubernetes(kubernetes, r.nodes, { namespace, clusterDomain });
  console.log(
    `wrote ${kubernetes}: the Kustomize inputs of deploy/kubernetes/overlays (namespace ${namespace}); see docs/deploy.md`,
  );
}
