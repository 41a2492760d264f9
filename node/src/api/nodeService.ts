/**
 * NodeService over the real subsystems: answers API calls from the chain,
 * the database and the mempool, in the shared JSON shapes, with the proofs
 * and certificates a client needs to verify each answer.
 */
import {
  type AccountJson,
  accountJson,
  type BlockJson,
  type CertifiedHeaderJson,
  certifiedHeaderJson,
  type GenesisJson,
  genesisJson,
  type NodeHealthJson,
  blockJson as renderBlock,
  type StatusJson,
  type TransactionStatusJson,
  transactionJson,
  type ValidatorsJson,
  validatorsJson,
} from "@edgeledger/sdk/api";
import {
  ApiError,
  accountKey,
  addressFromPublicKey,
  decodeAccount,
  decodeSignedTransaction,
  encodeMerkleProof,
  encodeSignedTransaction,
  encodeStateProof,
  equalBytes,
  formatAddress,
  fromHex,
  genesisCertificate,
  localSigner,
  merkleLeafHash,
  merkleProof,
  type SecretKey,
  signTransaction,
  TransactionError,
  toHex,
} from "@edgeledger/sdk/protocol";
import type { Chain } from "../chain/chain.ts";
import type { Database } from "../db/database.ts";
import type { Mempool } from "../mempool/mempool.ts";
import { MAX_AMOUNT } from "../state/rules.ts";
import type { NodeService } from "./service.ts";

export interface NodeServiceDeps {
  readonly chain: Chain;
  readonly db: Database;
  readonly mempool: Mempool;
  /** This node's validator key, asked at each status: a remote signer names it once it connects. */
  readonly validatorKey: () => Uint8Array | null;
  /** Dev chains only: the funded dev account that POST /v1/dev/transfer spends from. */
  readonly devKey?: SecretKey;
  readonly version: string;
  /** The node's health report now (health/monitor.ts). */
  readonly health: () => NodeHealthJson;
}

export function createNodeService(deps: NodeServiceDeps): NodeService {
  const { chain, db, mempool } = deps;

  const certifiedHeader = (height: number): CertifiedHeaderJson | null => {
    // From the kept header: a pruned block's body is gone, its header stays.
    const header = db.getHeader(height);
    const cert = db.getCertificate(height);
    return header && cert ? certifiedHeaderJson(header, cert) : null;
  };

  /** Throws BLOCK_PRUNED for a body this node dropped (retainBlocks). */
  const refuseDroppedBody = (height: number): void => {
    const head = chain.head.height;
    const oldest = db.oldestBlock(head);
    if (height >= 1 && height < oldest)
      throw new ApiError(
        "BLOCK_PRUNED",
        `This node keeps block bodies from height ${oldest} on (headers of all); ask an archive node for ${height}.`,
        { details: { oldest, head } },
      );
  };

  const blockJson = (height: number): BlockJson | null => {
    refuseDroppedBody(height);
    const bytes = db.getBlockBytes(height);
    const block = db.getBlock(height);
    const cert = db.getCertificate(height);
    if (!bytes || !block || !cert) return null;
    return renderBlock(block, cert, bytes);
  };

  const devKey = deps.devKey;
  const devTransfer = devKey
    ? async (to: Uint8Array, amount: bigint) => {
        // The schema allows 39 digits; the protocol's u128 does not allow all of them.
        if (amount > MAX_AMOUNT)
          throw new TransactionError("TX_INVALID_AMOUNT", "An amount is at most 2^128 - 1.", {
            details: { amount: amount.toString() },
          });
        const stx = await signTransaction(
          {
            chainId: chain.chainId,
            from: devKey.publicKey,
            nonce: await mempool.nextNonce(addressFromPublicKey(devKey.publicKey)),
            expiresAt: Date.now() + 10 * 60_000,
            body: { kind: "transfer", to, amount },
          },
          localSigner(devKey),
        );
        return { hash: (await mempool.add(encodeSignedTransaction(stx), "client")).hash };
      }
    : undefined;

  return {
    ...(devTransfer && { devTransfer }),
    async submitTransaction(txBytes) {
      const entry = await mempool.add(txBytes, "client");
      return { hash: entry.hash };
    },

    async submitTransactions(txs) {
      const results = await mempool.addMany(txs, "client");
      return results.map((r) => ("hash" in r ? { hash: r.hash } : { error: r }));
    },

    async getTransaction(hash): Promise<TransactionStatusJson | null> {
      // The chain's word first: a committed transaction is committed, whatever a pool holds.
      const pending = db.getTx(hash)?.status === "committed" ? undefined : mempool.get(hash);
      if (pending) {
        return {
          hash: toHex(hash),
          status: "pending",
          tx: transactionJson(pending.stx),
          txBytes: toHex(pending.bytes),
        };
      }
      const record = db.getTx(hash);
      if (!record) return null;
      if (record.status === "dropped") {
        const bytes = fromHex(record.tx);
        return {
          hash: toHex(hash),
          status: "dropped",
          tx: transactionJson(decodeSignedTransaction(bytes)),
          txBytes: record.tx,
          error: { code: record.code, message: record.message },
        };
      }
      refuseDroppedBody(record.height);
      const block = db.getBlock(record.height);
      const cert = db.getCertificate(record.height);
      if (!block || !cert) throw new ApiError("INTERNAL", "Indexed block is missing.");
      const leaves = block.txs.map(encodeSignedTransaction);
      const proof = merkleProof(leaves.map(merkleLeafHash), record.index);
      return {
        hash: toHex(hash),
        status: "committed",
        tx: transactionJson(block.txs[record.index]!),
        txBytes: toHex(leaves[record.index]!),
        receipt: { height: record.height, index: record.index, status: "success" },
        proof: toHex(encodeMerkleProof(proof)),
        block: certifiedHeaderJson(block.header, cert),
      };
    },

    async getAccount(address, height): Promise<AccountJson> {
      const head = chain.head.height;
      const at = height ?? head;
      if (at > head) {
        throw new ApiError(
          "HEIGHT_NOT_AVAILABLE",
          `Height ${at} is not committed yet (head is ${head}).`,
          { details: { head } },
        );
      }
      const oldest = db.oldestState(head);
      if (at < oldest)
        throw new ApiError(
          "STATE_PRUNED",
          `This node keeps the state from height ${oldest} on; ask an archive node for ${at}.`,
          { details: { oldest, head } },
        );
      // Genesis state has no certificate: it is proven against the genesis
      // header itself, which light clients hold as their trust anchor.
      const header = at === 0 ? chain.genesisHeader : db.getHeader(at);
      const cert = at === 0 ? genesisCertificate(chain.genesisHash) : db.getCertificate(at);
      if (!header || !cert)
        throw new ApiError("HEIGHT_NOT_AVAILABLE", `No block at height ${at} yet.`, {
          details: { head },
        });
      const { value, proof } = await chain.tree.prove(header.stateRoot, accountKey(address));
      return accountJson({
        address: formatAddress(address),
        height: at,
        account: value ? decodeAccount(value) : null,
        proof: encodeStateProof(proof),
        header,
        certificate: cert,
      });
    },

    async getBlockByHeight(height) {
      return blockJson(height);
    },

    async getBlockByHash(hash) {
      const height = db.getHeightByHash(hash);
      return height === undefined ? null : blockJson(height);
    },

    async getHeaderByHeight(height) {
      const found = certifiedHeader(height);
      const head = chain.head.height;
      const oldest = db.oldestHeader(head);
      if (found || height < 1 || height >= oldest) return found;
      // A light client bisecting here takes a kept neighbour instead (lightClient.ts).
      const kept = await db.keptHeadersAround(height, head);
      throw new ApiError(
        "HEADER_PRUNED",
        `This node keeps headers from height ${oldest} on, and below it those where the validator set changes; ask an archive node for ${height}.`,
        { details: { oldest, head, ...kept } },
      );
    },

    async getGenesis(): Promise<GenesisJson> {
      return genesisJson(chain.genesisHeader, chain.validatorsAt(1));
    },

    async getValidators(height): Promise<ValidatorsJson> {
      const at = height ?? chain.head.height + 1;
      // Sets are known up to head + 2: a change adopted at the head signs from head + 2.
      if (at > chain.head.height + 2 || at < 1)
        throw new ApiError(
          "HEIGHT_NOT_AVAILABLE",
          `The validator set of height ${at} is not known yet (latest final height ${chain.head.height}).`,
          { details: { height: at, latest: chain.head.height } },
        );
      return validatorsJson(at, chain.validatorsAt(at));
    },

    async getStatus(): Promise<StatusJson> {
      const head = chain.head;
      const key = deps.validatorKey();
      return {
        chainId: chain.chainId,
        nodeVersion: deps.version,
        genesisHash: toHex(chain.genesisHash),
        height: head.height,
        latestHash: toHex(head.hash),
        latestTime: head.header.time,
        // A node is a validator while its key is in the set signing the next block.
        validator:
          key && chain.validatorsAt(head.height + 1).some((v) => equalBytes(v.publicKey, key))
            ? {
                publicKey: toHex(key),
                address: formatAddress(addressFromPublicKey(key)),
              }
            : null,
        mempool: { size: mempool.size, bytes: mempool.bytes },
        protocolVersion: chain.protocolVersionAt(head.height + 1),
        upgrades: chain.upgrades.map((u) => ({ height: u.height, version: u.version })),
      };
    },

    async getNodeHealth(): Promise<NodeHealthJson> {
      return deps.health();
    },

    onHead(listener) {
      return chain.onHead((head, cert) => {
        if (cert) listener(certifiedHeaderJson(head.header, cert));
      });
    },
  };
}
