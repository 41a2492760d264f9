/**
 * What `npm start` runs until the node lands (issue 3): a walk through the
 * protocol package doing real work. It makes keys, signs and verifies a
 * transfer, applies it to an authenticated state tree, finalizes a block with
 * a 3-of-4 validator certificate, and proves balances and inclusion from the
 * header alone, the way a light client will.
 */
import {
  type Account,
  accountKey,
  addressFromPublicKey,
  type Block,
  blockHash,
  compareBytes,
  decodeAccount,
  decodeSignedTransaction,
  EMPTY_ROOT,
  encodeAccount,
  encodeSignedTransaction,
  evidenceRoot,
  formatAddress,
  localSigner,
  MemoryNodeStore,
  merkleLeafHash,
  merkleProof,
  proveAccount,
  SecretKey,
  SparseMerkleTree,
  signTransaction,
  toHex,
  transactionHash,
  transactionsRoot,
  type ValidatorSet,
  validatorSetHash,
  verifyAccountProof,
  verifyFinalityCertificate,
  verifyMerkleProof,
  verifyTransactionSignature,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier, useNativeSha256 } from "@edgeledger/sdk/protocol/node";

useNativeSha256();
const verifier = createNativeVerifier();
const chainId = "edgeledger-demo";
const step = (text: string) => console.log(`  ✓ ${text}`);
const short = (bytes: Uint8Array) => `${toHex(bytes).slice(0, 16)}…`;

console.log("edgeledger protocol demo\n");

// 1. Keys and addresses.
const alice = SecretKey.generate();
const bob = SecretKey.generate();
const aliceAddress = addressFromPublicKey(alice.publicKey);
const bobAddress = addressFromPublicKey(bob.publicKey);
step(`keys made: alice ${formatAddress(aliceAddress)}`);
step(`           bob   ${formatAddress(bobAddress)}`);
step(`a logged secret key prints as ${JSON.stringify({ key: alice })}`);

// 2. Genesis state: alice holds 1,000,000 units.
const store = new MemoryNodeStore();
const tree = new SparseMerkleTree(store);
const genesis = SparseMerkleTree.build([
  [accountKey(aliceAddress), encodeAccount({ balance: 1_000_000n, nonce: 0 })],
]);
store.write(genesis.writes);
step(`genesis state root ${short(genesis.root)}`);

// 3. A signed transfer, checked under the one Ed25519 rule.
const stx = await signTransaction(
  {
    chainId,
    from: alice.publicKey,
    nonce: 0,
    expiresAt: Date.now() + 10 * 60_000,
    body: { kind: "transfer", to: bobAddress, amount: 250_000n },
  },
  localSigner(alice),
);
const wire = encodeSignedTransaction(stx);
const received = decodeSignedTransaction(wire);
if (!(await verifyTransactionSignature(received, verifier)))
  throw new Error("signature did not verify");
step(
  `transfer of 250000 signed (${wire.length} bytes), tx ${short(transactionHash(stx.tx))} verified`,
);
const forged = { ...received, tx: { ...received.tx, chainId: "another-chain" } };
if (await verifyTransactionSignature(forged, verifier))
  throw new Error("cross-chain replay verified");
step("the same signature replayed on another chain id is rejected");

// 4. Apply it (the node's state machine will do this, with every check).
const read = async (address: Uint8Array): Promise<Account> => {
  const bytes = await tree.get(genesis.root, accountKey(address));
  return bytes ? decodeAccount(bytes) : { balance: 0n, nonce: 0 };
};
const [a, b] = [await read(aliceAddress), await read(bobAddress)];
const updated = await tree.update(genesis.root, [
  [accountKey(aliceAddress), encodeAccount({ balance: a.balance - 250_000n, nonce: a.nonce + 1 })],
  [accountKey(bobAddress), encodeAccount({ balance: b.balance + 250_000n, nonce: b.nonce })],
]);
store.write(updated.writes);
step(`state updated: root ${short(updated.root)} (${updated.writes.length} new nodes)`);

// 5. A block, finalized by 3 of 4 validators.
const keys = Array.from({ length: 4 }, () => SecretKey.generate()).sort((x, y) =>
  compareBytes(x.publicKey, y.publicKey),
);
const validators: ValidatorSet = keys.map((k) => ({ publicKey: k.publicKey, power: 1n }));
const block: Block = {
  header: {
    chainId,
    height: 1,
    time: Date.now(),
    parentHash: EMPTY_ROOT,
    txRoot: transactionsRoot([received]),
    txCount: 1,
    evidenceRoot: evidenceRoot([]),
    stateRoot: updated.root,
    validatorsHash: validatorSetHash(validators),
    nextValidatorsHash: validatorSetHash(validators),
    proposer: validators[0]!.publicKey,
  },
  txs: [received],
  evidence: [],
};
const hash = blockHash(block.header);
const certificate = {
  height: 1,
  round: 0,
  blockHash: hash,
  signatures: [0, 1, 2].map((i) => ({
    validatorIndex: i,
    signature: keys[i]!.sign(
      voteDigest(chainId, {
        type: "precommit",
        height: 1,
        round: 0,
        blockHash: hash,
        validator: keys[i]!.publicKey,
      }),
    ),
  })),
};
await verifyFinalityCertificate(
  certificate,
  { chainId, height: 1, blockHash: hash, validators },
  verifier,
);
step(`block 1 ${short(hash)} final: certificate with 3 of 4 signatures verified`);

// 6. Proofs from the header alone.
const { header } = block;
const txProof = merkleProof([merkleLeafHash(wire)], 0);
verifyMerkleProof({ root: header.txRoot, size: header.txCount }, wire, txProof);
step("transfer proven included in block 1 (Merkle proof against txRoot)");
const bobProof = await proveAccount(tree, header.stateRoot, bobAddress);
const bobAccount = bobProof.account!;
verifyAccountProof(header.stateRoot, bobAddress, bobAccount, bobProof.proof);
step(
  `bob's balance ${bobAccount.balance} proven against stateRoot (${bobProof.proof.siblings.length} siblings)`,
);
const stranger = addressFromPublicKey(SecretKey.generate().publicKey);
const absent = await proveAccount(tree, header.stateRoot, stranger);
verifyAccountProof(header.stateRoot, stranger, null, absent.proof);
step("an unused address proven absent (non-inclusion proof)");
try {
  verifyAccountProof(
    header.stateRoot,
    bobAddress,
    { ...bobAccount, balance: 10n ** 9n },
    bobProof.proof,
  );
  throw new Error("an inflated balance verified");
} catch (err) {
  step(`an inflated balance is rejected: ${(err as { code?: string }).code}`);
}

console.log("\nAll checks passed. Tests: npm test · Benchmarks: npm run bench");
