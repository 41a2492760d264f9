/**
 * What the HTTP API needs from the node: answers already in the shared JSON
 * shapes (client-sdk/src/api/types.ts). The API layer validates input,
 * calls these, and maps thrown errors to HTTP; it never touches the
 * database, mempool or consensus directly. Tests pass a fake.
 */
import type {
  AccountJson,
  BlockJson,
  CertifiedHeaderJson,
  GenesisJson,
  NodeHealthJson,
  StatusJson,
  TransactionStatusJson,
  ValidatorsJson,
} from "@edgeledger/sdk/api";
import type { BaseError } from "@edgeledger/sdk/protocol";

export interface NodeService {
  /**
   * Admits a signed transaction (canonical bytes) to the mempool. Throws a
   * TransactionError (codes TX_* / MEMPOOL_*) when refused.
   */
  submitTransaction(txBytes: Uint8Array): Promise<{ hash: Uint8Array }>;
  /**
   * Admits each transaction on its own, in order; never throws for one
   * refused transaction (its result carries the error instead).
   */
  submitTransactions(
    txs: readonly Uint8Array[],
  ): Promise<({ hash: Uint8Array } | { error: BaseError })[]>;
  /**
   * Dev chains only: sign a transfer from the node's dev account and admit
   * it. Absent (undefined) on a real node, and then the route is not served.
   */
  devTransfer?(to: Uint8Array, amount: bigint): Promise<{ hash: Uint8Array }>;
  /** null when the node has never seen the hash. */
  getTransaction(hash: Uint8Array): Promise<TransactionStatusJson | null>;
  /**
   * The account at `height` (default: latest), with its state proof and the
   * certified header. Throws ApiError HEIGHT_NOT_AVAILABLE for a future height.
   */
  getAccount(address: Uint8Array, height?: number): Promise<AccountJson>;
  getBlockByHeight(height: number): Promise<BlockJson | null>;
  getBlockByHash(hash: Uint8Array): Promise<BlockJson | null>;
  getHeaderByHeight(height: number): Promise<CertifiedHeaderJson | null>;
  /** The genesis header and the set that signs height 1 (a light client's anchor). */
  getGenesis(): Promise<GenesisJson>;
  /** The validator set that signs block `height` (default: the next block). */
  getValidators(height?: number): Promise<ValidatorsJson>;
  getStatus(): Promise<StatusJson>;
  /** Health for probes and operators (health/health.ts decides the state). */
  getNodeHealth(): Promise<NodeHealthJson>;
  /** Calls `listener` with each newly finalized head; returns an unsubscribe function. */
  onHead(listener: (head: CertifiedHeaderJson) => void): () => void;
}
