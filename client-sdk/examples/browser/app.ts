/**
 * The SDK in a browser page: send a transfer, wait until it is final, and
 * show the recipient's balance, read with its state proof against a header
 * verified from the pinned genesis. The page says which Ed25519 backend
 * verified the signatures (WebCrypto where the browser has it) and counts
 * them, so you can see the verification happen.
 *
 * Configured by the query string:
 *   node         the node (or edge) URL, e.g. http://127.0.0.1:8545
 *   chainId      the chain id
 *   genesisHash  the genesis hash, from a source you trust (never the server)
 *   key          hex of a funded secret key: for a dev network only, since
 *                anything in a URL leaks (a real app signs with a wallet or
 *                a keystore, see the README's Wallet section)
 *   amount       optional, default 25
 *
 * Run it (from client-sdk/, after `npm run build`):
 *   npx esbuild examples/browser/app.ts --bundle --format=esm --platform=browser \
 *     --outdir=examples/browser --servedir=examples/browser --serve=127.0.0.1:8000
 * and open http://127.0.0.1:8000/?node=…&chainId=…&genesisHash=…&key=…
 * (test/scenarios/browser.test.ts runs it in headless Chromium.)
 */
import {
  addressFromPublicKey,
  createClient,
  createDefaultVerifier,
  formatAddress,
  localSigner,
  SecretKey,
  type SignatureVerifier,
} from "@edgeledger/sdk";

const query = new URLSearchParams(location.search);

function param(name: string): string {
  const value = query.get(name);
  if (!value) throw new Error(`Add ?${name}=… to the page's URL (see app.ts).`);
  return value;
}

function show(id: string, text: string | number | bigint): void {
  const element = document.getElementById(id);
  if (element) element.textContent = String(text);
}

/** Counts the signatures `verifier` checks, to show them on the page. */
function counted(verifier: SignatureVerifier): SignatureVerifier {
  let count = 0;
  return {
    backend: verifier.backend,
    async verify(signature, message, publicKey) {
      const ok = await verifier.verify(signature, message, publicKey);
      show("verified", ++count);
      return ok;
    },
  };
}

async function main(): Promise<void> {
  // WebCrypto's Ed25519 where the browser implements it, noble otherwise.
  const verifier = await createDefaultVerifier();
  show("backend", verifier.backend);
  const client = createClient({
    url: param("node"),
    chainId: param("chainId"),
    trust: { genesisHash: param("genesisHash") },
    verifier: counted(verifier),
  });
  const signer = localSigner(SecretKey.fromHex(param("key")));
  const to = formatAddress(addressFromPublicKey(SecretKey.generate().publicKey));
  show("recipient", to);

  show("status", "sending");
  const sent = await client.transfer({ signer, to, amount: BigInt(query.get("amount") ?? 25) });
  show("tx", sent.hash);
  show("status", "waiting for finality");
  const receipt = await sent.wait({ timeoutMs: 30_000 });
  show("height", receipt.height);
  show("status", "reading the balance");
  const account = await client.getAccount({ address: to });
  show("balance", account.balance);
  show("status", `done: balance proven at height ${account.height}`);
  document.body.dataset["state"] = "done";
}

main().catch((err: unknown) => {
  const code = (err as { code?: unknown }).code;
  show("status", `${typeof code === "string" ? `${code}: ` : ""}${(err as Error).message}`);
  document.body.dataset["state"] = "failed";
  console.error(err);
});
