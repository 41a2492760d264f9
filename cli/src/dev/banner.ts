/**
 * What `edgeledger dev` prints once every process answers: where things
 * are, and commands to try (signed just now with the dev key).
 */
import { relative, resolve } from "node:path";
import { readKeyFile } from "@edgeledger/node";
import type { Client } from "@edgeledger/sdk";
import {
  addressFromPublicKey,
  encodeSignedTransaction,
  formatAddress,
  localSigner,
  parseAddress,
  SecretKey,
  signTransaction,
  toHex,
} from "@edgeledger/sdk/protocol";
import type { LocalProcessSpec } from "./localNetwork.ts";
import { type DevNetwork, validatorCount } from "./network.ts";

/** The quick start's defaults are `npm start`'s; anything else goes in its environment. */
function quickstartEnv(home: string, apiUrl: string): string {
  const env = [
    ...(home === resolve(".edgeledger/dev") ? [] : [`EDGELEDGER_HOME=${home}`]),
    ...(apiUrl === "http://127.0.0.1:8545" ? [] : [`EDGELEDGER_URL=${apiUrl}`]),
  ];
  return env.map((e) => `${e} `).join("");
}

/** What `edgeledger dev` prints once everything answers: where things are, and commands to try. */
export async function devBanner(
  net: DevNetwork,
  processes: readonly LocalProcessSpec[],
  homeArg: string,
  client: Client,
): Promise<string> {
  const apiUrl = net.validators[0]!.apiUrl;
  const otherUrl = net.validators[1]?.apiUrl ?? apiUrl;
  const edgeUrl = processes.find((p) => p.name === "edge")?.url;
  const st = await client.getStatus();
  const devKey = readKeyFile(net.devKeyFile);
  const devAddress = formatAddress(addressFromPublicKey(devKey.publicKey));
  // Accounts are served with a proof against a certified header: none before block 1.
  const account = st.height > 0 ? await client.getAccount({ address: devAddress }) : null;
  const someone = formatAddress(addressFromPublicKey(SecretKey.generate().publicKey));
  const example = await signTransaction(
    {
      chainId: st.chainId,
      from: devKey.publicKey,
      nonce: (account?.nonce ?? 0) + st.mempool.size,
      expiresAt: Date.now() + 50 * 60_000,
      body: { kind: "transfer", to: parseAddress(someone), amount: 25n },
    },
    localSigner(devKey),
  );
  // One row per process, whatever it runs (validators today, an edge worker next).
  const width = Math.max("dev account".length, ...processes.map((p) => p.name.length));
  const note = (p: LocalProcessSpec, i: number) =>
    i === 0
      ? "  ← use this one"
      : p.name === "edge"
        ? "  ← the same API: verified, cached reads; writes forwarded"
        : "";
  const rows = processes.map(
    (p, i) =>
      `  ${p.name.padEnd(width)}  ${p.url}  log: ${relative(net.home, p.logFile)}${note(p, i)}`,
  );
  const cli = "npm run edgeledger --";
  return `
edgeledger dev network: chain "${st.chainId}" at height ${st.height}, ${validatorCount(net.validators.length)}, each in its own process
(home: ${net.home}; logs are relative to it)

${rows.join("\n")}
${edgeUrl ? `  ${"explorer".padEnd(width)}  ${edgeUrl}/explorer/  ← open in a browser: blocks arriving, each verified there by the SDK\n` : ""}  ${"dev account".padEnd(width)}  ${devAddress}  (key: ${net.devKeyFile})
  ${"genesis".padEnd(width)}  ${st.genesisHash}  (what SDK clients pin: trust: { genesisHash })

  OpenAPI: ${apiUrl}/openapi.json, metrics: ${apiUrl}/metrics (every validator serves both)

Move funds from the dev account (the node signs; dev chains only), then read
them back from any validator once the block is final:

  curl -s -X POST ${apiUrl}/v1/dev/transfer -H 'content-type: application/json' \\
    -d '{"to":"${someone}","amount":"25"}'
  curl -s ${otherUrl}/v1/accounts/${someone}

Submit a transaction signed elsewhere (this one was signed just now by the dev key, valid 50 min):

  curl -s -X POST ${apiUrl}/v1/transactions -H 'content-type: application/json' \\
    -d '{"tx":"${toHex(encodeSignedTransaction(example))}"}'

or sign and send any transfer with the CLI:

  ${cli} transfer --home ${homeArg} --key ${net.devKeyFile} --to ${someone} --amount 1000

Or from code, with the SDK verifying every answer (client-sdk/README.md):

  ${quickstartEnv(net.home, apiUrl)}GENESIS_HASH=${st.genesisHash} npm run quickstart
${
  edgeUrl
    ? `
or through the edge worker, which verifies before it caches (and the SDK verifies it again):

  ${quickstartEnv(net.home, edgeUrl)}GENESIS_HASH=${st.genesisHash} npm run quickstart
`
    : ""
}
Ctrl-C stops every validator and the edge; the next \`npm start\` continues this chain.
`;
}
