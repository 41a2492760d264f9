/**
 * What an SDK read costs to verify (issue 5): one account proof plus the
 * finality certificate of its header (4 validators, 3 signatures), and one
 * receipt (a transaction's Merkle proof in a block of 500), per second, in
 * Node, with each Ed25519 backend. The browser half is bench/browser.bench
 * (headless Chromium). Run from client-sdk after a build:
 *   node bench/client.bench.ts            (npm run bench runs it)
 * Writes bench/out/client.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import {
  accountKey,
  addressFromPublicKey,
  blockHash,
  createVerifier,
  decodeMerkleProof,
  decodeStateProof,
  encodeAccount,
  encodeMerkleProof,
  encodeStateProof,
  MemoryNodeStore,
  merkleLeafHash,
  merkleProof,
  merkleRoot,
  nobleBackend,
  SecretKey,
  type SignatureVerifier,
  SparseMerkleTree,
  verifyAccountProof,
  verifyFinalityCertificate,
  verifyMerkleProof,
  webCryptoBackend,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
import { certify, makeHeader, makeValidators } from "../src/protocol/testing/chain.ts";

const ACCOUNTS = 10_000;
const TXS = 500;

// A state of 10 000 accounts, a block of 500 transactions, a 4-validator certificate.
const addresses = Array.from({ length: ACCOUNTS }, () =>
  addressFromPublicKey(SecretKey.generate().publicKey),
);
const store = new MemoryNodeStore();
const built = SparseMerkleTree.build(
  addresses.map((a, i) => [accountKey(a), encodeAccount({ balance: BigInt(i + 1), nonce: i })]),
);
store.write(built.writes);
const tree = new SparseMerkleTree(store);
const leaves = Array.from({ length: TXS }, (_, i) =>
  Uint8Array.from({ length: 170 }, () => i % 251),
);
const vals = makeValidators(4, 42);
const header = makeHeader(null, vals.set, vals.set, {
  stateRoot: built.root,
  txRoot: merkleRoot(leaves),
  txCount: TXS,
});
const certificate = certify(header, vals, [0, 1, 2]);
const who = addresses[1234]!;
const account = { balance: 1235n, nonce: 1234 };
// As a client receives them: encoded, decoded on each read.
const stateProofBytes = encodeStateProof((await tree.prove(built.root, accountKey(who))).proof);
const receiptProofBytes = encodeMerkleProof(merkleProof(leaves.map(merkleLeafHash), 321));
const target = {
  chainId: header.chainId,
  height: header.height,
  blockHash: blockHash(header),
  validators: vals.set,
};

async function oneRead(verifier: SignatureVerifier): Promise<void> {
  await verifyFinalityCertificate(certificate, target, verifier);
  verifyAccountProof(header.stateRoot, who, account, decodeStateProof(stateProofBytes));
  verifyMerkleProof(
    { root: header.txRoot, size: header.txCount },
    leaves[321]!,
    decodeMerkleProof(receiptProofBytes),
  );
}

async function rate(verifier: SignatureVerifier): Promise<number> {
  for (let i = 0; i < 20; i++) await oneRead(verifier); // warm up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    await oneRead(verifier);
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

const rows: Record<string, { "reads/s": number; "ms/read": number }> = {};
for (const [name, verifier] of [
  ["native (node:crypto)", createNativeVerifier()],
  ["WebCrypto", createVerifier(webCryptoBackend())],
  ["noble", createVerifier(nobleBackend)],
] as const) {
  const r = await rate(verifier);
  rows[name] = { "reads/s": Math.round(r), "ms/read": Number((1000 / r).toFixed(3)) };
}
console.log(
  `\nSDK verification in Node ${process.version}: one read = a 4-validator certificate (3 signatures) + an account proof (${ACCOUNTS} accounts) + a receipt proof (${TXS} txs)\n`,
);
console.table(rows);
mkdirSync(new URL("./out/", import.meta.url), { recursive: true });
writeFileSync(new URL("./out/client.json", import.meta.url), JSON.stringify(rows, null, 2));
