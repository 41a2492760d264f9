/** Test helpers for node subsystems: keys, signed transfers, in-memory account state. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Account,
  addressFromPublicKey,
  encodeSignedTransaction,
  type FinalityCertificate,
  SecretKey,
  type SignedTransaction,
  sha256,
  type TransactionBody,
  TransactionError,
  toHex,
  transactionHash,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier, nativeSigner } from "@edgeledger/sdk/protocol/node";
import { createNodeService } from "../api/nodeService.ts";
import type { NodeService } from "../api/service.ts";
import { Chain } from "../chain/chain.ts";
import type { Genesis } from "../chain/genesis.ts";
import { Database, type RetentionOptions } from "../db/database.ts";
import type { Pruner } from "../db/pruner.ts";
import { storageReport } from "../db/report.ts";
import { Mempool } from "../mempool/mempool.ts";
import type { StateReader } from "../state/ledger.ts";

export const CHAIN = "test-chain";
export const NOW = 1_800_000_000_000;

export const keyOf = (i: number) => SecretKey.fromSeed(sha256(Uint8Array.of(0xee, i)));
export const addressOf = (i: number) => addressFromPublicKey(keyOf(i).publicKey);

export function signed(
  from: SecretKey,
  nonce: number,
  body: TransactionBody,
  overrides: { chainId?: string; expiresAt?: number } = {},
): { stx: SignedTransaction; bytes: Uint8Array } {
  const tx = {
    chainId: overrides.chainId ?? CHAIN,
    from: from.publicKey,
    nonce,
    expiresAt: overrides.expiresAt ?? NOW + 60_000,
    body,
  };
  const stx = { tx, signature: nativeSigner(from).signSync(transactionHash(tx)) };
  return { stx, bytes: encodeSignedTransaction(stx) };
}

export const transfer = (to: Uint8Array, amount: bigint): TransactionBody => ({
  kind: "transfer",
  to,
  amount,
});

/** Account state in a Map, for tests of code that only reads accounts. */
/** Committed state in memory: accounts, and raw values by state key. */
export class MemoryAccounts implements StateReader {
  readonly accounts = new Map<string, Account>();
  readonly values = new Map<string, Uint8Array>();
  set(address: Uint8Array, account: Account): this {
    this.accounts.set(toHex(address), account);
    return this;
  }
  async getAccount(address: Uint8Array): Promise<Account | null> {
    return this.accounts.get(toHex(address)) ?? null;
  }
  async getValue(key: Uint8Array): Promise<Uint8Array | null> {
    return this.values.get(toHex(key)) ?? null;
  }
}

/** The code of the TransactionError `p` rejects with, or "ok" if it resolves. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (!(err instanceof TransactionError)) throw err;
    return err.code;
  }
}

const testDirs: string[] = [];

/**
 * A chain on a fresh LevelDB in a temporary folder (or `dir`, to reopen
 * one), with a mempool over it: what chain, driver and sync tests start
 * from. `removeTestDirs()` deletes the folders made here.
 */
export async function openTestChain(
  genesis: Genesis,
  options: { dir?: string; now?: () => number; retention?: RetentionOptions } = {},
): Promise<{ db: Database; chain: Chain; mempool: Mempool; dir: string }> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "chain-"));
  if (!options.dir) testDirs.push(dir);
  const db = new Database(dir, options.retention ? { retention: options.retention } : {});
  await db.open();
  const chain = new Chain(db, genesis);
  await chain.init();
  const mempool = new Mempool(
    {},
    {
      chainId: genesis.chainId,
      verifier: createNativeVerifier(),
      accounts: chain.accounts,
      isKnown: (h) => db.getTx(h) !== undefined,
      now: options.now ?? (() => NOW),
      nextValidators: () => chain.validatorsAt(chain.head.height + 1),
      nextProtocolVersion: () => chain.protocolVersionAt(chain.head.height + 1),
    },
  );
  return { db, chain, mempool, dir };
}

/**
 * The real NodeService over a test chain, for tests of what it reads: its
 * health is a fixed ready report but for the storage part, which is real.
 */
export function testNodeService(
  t: { chain: Chain; db: Database; mempool: Mempool },
  pruner: Pruner,
): NodeService {
  return createNodeService({
    chain: t.chain,
    db: t.db,
    mempool: t.mempool,
    validatorKey: () => null,
    version: "test",
    health: () => ({
      status: "ready",
      height: t.chain.head.height,
      lastCommitAgeMs: 0,
      peers: 0,
      validator: false,
      bestPeerHeight: 0,
      behind: 0,
      haltHeight: null,
      storage: storageReport({
        db: t.db,
        pruner,
        head: () => t.chain.head.height,
        snapshots: () => [],
        dbSizeBytes: () => 0,
      }),
    }),
  });
}

/**
 * Commits `blocks` blocks on a one-validator test chain, each with one
 * transfer of 10 from account 1 to account 2; returns their hashes.
 */
export async function commitTransfers(
  t: { chain: Chain; mempool: Mempool },
  validator: SecretKey,
  blocks: number,
): Promise<Uint8Array[]> {
  const txHashes: Uint8Array[] = [];
  for (let n = 0; n < blocks; n++) {
    const tx = await t.mempool.add(signed(keyOf(1), n, transfer(addressOf(2), 10n)).bytes);
    txHashes.push(tx.hash);
    const built = await t.chain.buildBlock([tx], t.chain.nextTime(NOW + n), validator.publicKey);
    const height = built.block.header.height;
    await t.chain.commit(built, certifyAlone(validator, height, built.blockHash));
  }
  return txHashes;
}

export function removeTestDirs(): void {
  for (const d of testDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/**
 * A certificate for block `blockHash` at `height` signed by `key` alone (a
 * one-validator chain, or a validator at `validatorIndex` holding > 2/3).
 */
export function certifyAlone(
  key: SecretKey,
  height: number,
  blockHash: Uint8Array,
  chainId = CHAIN,
  validatorIndex = 0,
): FinalityCertificate {
  const vote = { type: "precommit" as const, height, round: 0, blockHash };
  const signature = nativeSigner(key).signSync(
    voteDigest(chainId, { ...vote, validator: key.publicKey }),
  );
  return { ...vote, signatures: [{ validatorIndex, signature }] };
}

/** A one-validator chain whose account 1 holds 1000: the genesis chain and driver tests start from. */
export function loneValidatorGenesis(validator: SecretKey, time: number): Genesis {
  return {
    chainId: CHAIN,
    time,
    validators: [{ publicKey: validator.publicKey, power: 1n }],
    accounts: [{ address: addressOf(1), balance: 1000n }],
  };
}
