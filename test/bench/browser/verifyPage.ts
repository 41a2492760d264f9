/**
 * The browser half of the SDK verification benchmark, run in the page by
 * ../browser.bench.ts: what a light client checks for one verified answer —
 * a finality certificate of a 4-validator set, an account state proof and a
 * transaction receipt (Merkle inclusion) — with the WebCrypto verifier and
 * with the noble one, as operations per second.
 *
 * The fixture is made here with the SDK's public protocol functions (the
 * same steps as client-sdk/src/protocol/testing/chain.ts, which is not in
 * the published build): 4 validators with real keys, a state tree of
 * ACCOUNTS accounts, a block of BLOCK_TXS transactions, a header committing
 * to both, and a certificate signed by all 4 validators (the most a real
 * certificate carries; consensus stops at 3 or 4).
 */
import {
  type Account,
  accountKey,
  type BlockHeader,
  blockHash,
  compareBytes,
  createVerifier,
  encodeAccount,
  encodeSignedTransaction,
  type FinalityCertificate,
  localSigner,
  MemoryNodeStore,
  type MerkleProof,
  merkleLeafHash,
  merkleProof,
  merkleRoot,
  merkleRootOfHashes,
  nobleBackend,
  proveAccount,
  SecretKey,
  type SignatureVerifier,
  SparseMerkleTree,
  type StateProof,
  sha256,
  signTransaction,
  type ValidatorSet,
  validatorSetHash,
  verifyAccountProof,
  verifyFinalityCertificate,
  verifyMerkleProof,
  voteDigest,
  webCryptoBackend,
  webCryptoHasEd25519,
} from "@edgeledger/sdk/protocol";

const CHAIN_ID = "bench-chain";
const VALIDATORS = 4;
const ACCOUNTS = 10_000;
const BLOCK_TXS = 1_000;

export interface BenchOptions {
  readonly warmupMs: number;
  readonly windowMs: number;
}

export interface BenchRow {
  readonly name: string;
  readonly verifier: string;
  readonly opsPerSec: number;
  readonly ops: number;
  readonly seconds: number;
}

export interface BenchReport {
  readonly userAgent: string;
  readonly hardwareConcurrency: number;
  readonly webCryptoEd25519: boolean;
  readonly fixture: Readonly<Record<string, number>>;
  readonly fixtureMs: number;
  readonly rows: readonly BenchRow[];
}

interface Fixture {
  readonly header: BlockHeader;
  readonly validators: ValidatorSet;
  readonly certificate: FinalityCertificate;
  readonly address: Uint8Array;
  readonly account: Account;
  readonly accountProof: StateProof;
  readonly txBytes: Uint8Array;
  readonly txProof: MerkleProof;
}

/** Deterministic filler bytes: sha256(tag, i), cut to `length`. */
function bytesOf(tag: number, i: number, length = 32): Uint8Array {
  return sha256(Uint8Array.of(tag, i >>> 24, i >>> 16, i >>> 8, i)).slice(0, length);
}

async function makeFixture(): Promise<Fixture> {
  const keys = Array.from({ length: VALIDATORS }, (_, i) => SecretKey.fromSeed(bytesOf(1, i))).sort(
    (a, b) => compareBytes(a.publicKey, b.publicKey),
  );
  const validators: ValidatorSet = keys.map((key) => ({ publicKey: key.publicKey, power: 10n }));

  // The state: ACCOUNTS accounts; the one proven sits in the middle.
  const addresses = Array.from({ length: ACCOUNTS }, (_, i) => bytesOf(2, i, 20));
  const built = SparseMerkleTree.build(
    addresses.map(
      (address, i) =>
        [
          accountKey(address),
          encodeAccount({ balance: 1_000n + BigInt(i), nonce: i % 7 }),
        ] as const,
    ),
  );
  const store = new MemoryNodeStore();
  store.write(built.writes);
  const address = addresses[ACCOUNTS >> 1]!;
  const proven = await proveAccount(new SparseMerkleTree(store), built.root, address);

  // The block: BLOCK_TXS transactions; the one proven is a real signed transfer.
  const stx = await signTransaction(
    {
      chainId: CHAIN_ID,
      from: keys[0]!.publicKey,
      nonce: 0,
      expiresAt: Date.now() + 3_600_000,
      body: { kind: "transfer", to: address, amount: 25n },
    },
    localSigner(keys[0]!),
  );
  const txBytes = encodeSignedTransaction(stx);
  const txIndex = Math.floor(BLOCK_TXS / 3);
  const leafHashes = Array.from({ length: BLOCK_TXS }, (_, i) => bytesOf(3, i));
  leafHashes[txIndex] = merkleLeafHash(txBytes);

  const header: BlockHeader = {
    chainId: CHAIN_ID,
    height: 1_000,
    time: Date.now(),
    parentHash: bytesOf(4, 0),
    txRoot: merkleRootOfHashes(leafHashes),
    txCount: BLOCK_TXS,
    evidenceRoot: merkleRoot([]),
    stateRoot: built.root,
    validatorsHash: validatorSetHash(validators),
    nextValidatorsHash: validatorSetHash(validators),
    proposer: validators[0]!.publicKey,
  };
  const hash = blockHash(header);
  const certificate: FinalityCertificate = {
    height: header.height,
    round: 0,
    blockHash: hash,
    signatures: keys.map((key, validatorIndex) => ({
      validatorIndex,
      signature: key.sign(
        voteDigest(CHAIN_ID, {
          type: "precommit",
          height: header.height,
          round: 0,
          blockHash: hash,
          validator: key.publicKey,
        }),
      ),
    })),
  };
  return {
    header,
    validators,
    certificate,
    address,
    account: proven.account!,
    accountProof: proven.proof,
    txBytes,
    txProof: merkleProof(leafHashes, txIndex),
  };
}

/** The header's certificate: hashes the header, checks 2/3+ of the power signed it. */
function verifyCertificate(f: Fixture, verifier: SignatureVerifier): Promise<void> {
  return verifyFinalityCertificate(
    f.certificate,
    {
      chainId: f.header.chainId,
      height: f.header.height,
      blockHash: blockHash(f.header),
      validators: f.validators,
    },
    verifier,
  );
}

/** The account's state proof and the transaction's receipt, against the header's roots. */
function verifyProofs(f: Fixture): void {
  verifyAccountProof(f.header.stateRoot, f.address, f.account, f.accountProof);
  verifyMerkleProof({ root: f.header.txRoot, size: f.header.txCount }, f.txBytes, f.txProof);
}

/** Runs `op` one after another (as a client checks an answer) for `windowMs`, after a warm-up. */
async function measure(
  op: () => unknown,
  { warmupMs, windowMs }: BenchOptions,
): Promise<{ ops: number; seconds: number }> {
  const until = (end: number) => async () => {
    let ops = 0;
    while (performance.now() < end) {
      await op();
      ops++;
    }
    return ops;
  };
  await until(performance.now() + warmupMs)();
  const start = performance.now();
  const ops = await until(start + windowMs)();
  return { ops, seconds: (performance.now() - start) / 1000 };
}

async function run(options: BenchOptions): Promise<BenchReport> {
  const t0 = performance.now();
  const fixture = await makeFixture();
  const fixtureMs = performance.now() - t0;
  const hasWebCrypto = await webCryptoHasEd25519();
  const verifiers = [
    ...(hasWebCrypto ? [createVerifier(webCryptoBackend())] : []),
    createVerifier(nobleBackend),
  ];
  // Each verifier must accept the fixture before it is timed.
  for (const verifier of verifiers) await verifyCertificate(fixture, verifier);
  verifyProofs(fixture);

  const { signature, validatorIndex } = fixture.certificate.signatures[0]!;
  const vote = voteDigest(CHAIN_ID, {
    type: "precommit",
    height: fixture.header.height,
    round: 0,
    blockHash: fixture.certificate.blockHash,
    validator: fixture.validators[validatorIndex]!.publicKey,
  });
  const cases: { name: string; verifier: string; op: () => unknown }[] = [];
  for (const v of verifiers)
    cases.push({
      name: `certificate (${VALIDATORS} signatures) + account proof + receipt`,
      verifier: v.backend,
      op: async () => {
        await verifyCertificate(fixture, v);
        verifyProofs(fixture);
      },
    });
  for (const v of verifiers)
    cases.push({
      name: `certificate (${VALIDATORS} signatures)`,
      verifier: v.backend,
      op: () => verifyCertificate(fixture, v),
    });
  for (const v of verifiers)
    cases.push({
      name: "one Ed25519 signature",
      verifier: v.backend,
      op: async () => {
        const publicKey = fixture.validators[validatorIndex]!.publicKey;
        if (!(await v.verify(signature, vote, publicKey))) throw new Error("signature refused");
      },
    });
  cases.push({
    name: "account proof + receipt (no signatures)",
    verifier: "-",
    op: () => verifyProofs(fixture),
  });

  const rows: BenchRow[] = [];
  for (const c of cases) {
    const { ops, seconds } = await measure(c.op, options);
    rows.push({ name: c.name, verifier: c.verifier, opsPerSec: ops / seconds, ops, seconds });
  }
  return {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    webCryptoEd25519: hasWebCrypto,
    fixture: {
      validators: VALIDATORS,
      certificateSignatures: fixture.certificate.signatures.length,
      accounts: ACCOUNTS,
      accountProofSiblings: fixture.accountProof.siblings.length,
      blockTxs: BLOCK_TXS,
      receiptProofSiblings: fixture.txProof.siblings.length,
    },
    fixtureMs,
    rows,
  };
}

/** What the runner calls (page.evaluate). */
export interface BenchPage {
  run(options: BenchOptions): Promise<BenchReport>;
}

(globalThis as unknown as { edgeledgerBench: BenchPage }).edgeledgerBench = { run };
