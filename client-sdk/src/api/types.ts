/**
 * The JSON shapes of the node's HTTP API, which the edge serves too and the
 * SDK reads, with their readable names and doc comments. Each is proven by
 * the type checker to be exactly what its schema in routes.ts describes
 * (schemaTypes.check.ts, over schemaType.ts's FromSchema), so server, edge,
 * client and schema cannot drift.
 *
 * Conventions: byte strings are lowercase hex without `0x`; bigints
 * (amounts, balances, power) are decimal strings; heights, times (unix ms)
 * and nonces are JSON numbers. Every verifiable object also comes as its
 * canonical encoding (`…Bytes`, hex): verifiers decode and check those bytes,
 * the readable fields are for people.
 */

export type Hex = string;

export interface HeaderJson {
  hash: Hex;
  chainId: string;
  height: number;
  time: number;
  parentHash: Hex;
  txRoot: Hex;
  txCount: number;
  evidenceRoot: Hex;
  stateRoot: Hex;
  validatorsHash: Hex;
  nextValidatorsHash: Hex;
  proposer: Hex;
  /** The protocol version the block was built under (1 before any activation). */
  protocolVersion: number;
}

export interface CertificateJson {
  height: number;
  round: number;
  blockHash: Hex;
  signatures: { validatorIndex: number; signature: Hex }[];
}

/** A header with the finality certificate that makes it final. */
export interface CertifiedHeaderJson {
  header: HeaderJson;
  headerBytes: Hex;
  certificate: CertificateJson;
  certificateBytes: Hex;
}

export type TransactionBodyJson =
  | { kind: "transfer"; to: string; amount: string }
  | { kind: "validator-vote"; validator: Hex; power: string };

export interface TransactionJson {
  hash: Hex;
  chainId: string;
  from: Hex;
  /** The sender's address (bech32m, `el1…`). */
  sender: string;
  nonce: number;
  expiresAt: number;
  body: TransactionBodyJson;
  signature: Hex;
}

/** POST /v1/transactions: the body is `{ "tx": "<hex of the signed transaction>" }`. */
export interface SubmitTransactionRequest {
  tx: Hex;
}

export interface SubmitTransactionResponse {
  hash: Hex;
  status: "pending";
}

/**
 * POST /v1/transactions/batch: up to MAX_BATCH_TXS signed transactions in one
 * request (for high-rate senders and for edges forwarding many clients).
 * Each one is admitted or refused on its own; the answer lists the results
 * in the same order.
 */
export interface SubmitTransactionsRequest {
  txs: Hex[];
}

export type SubmitResultJson = { hash: Hex; status: "pending" } | { error: ErrorJson };

export interface SubmitTransactionsResponse {
  results: SubmitResultJson[];
}

/** POST /v1/dev/transfer (dev chains only). */
export interface DevTransferRequest {
  to: string;
  amount: string;
}

export interface ReceiptJson {
  height: number;
  index: number;
  status: "success";
}

export interface TransactionStatusJson {
  hash: Hex;
  status: "pending" | "committed" | "dropped";
  tx: TransactionJson;
  txBytes: Hex;
  /** committed only */
  receipt?: ReceiptJson;
  /** committed only: MerkleProof (hex) of txBytes against block.header.txRoot */
  proof?: Hex;
  /** committed only */
  block?: CertifiedHeaderJson;
  /** dropped only: why */
  error?: { code: string; message: string };
}

export interface AccountJson {
  address: string;
  /** The height whose state this is. */
  height: number;
  /** null: the account does not exist at that height (proof shows absence). */
  account: { balance: string; nonce: number } | null;
  /** StateProof (hex) against block.header.stateRoot */
  proof: Hex;
  block: CertifiedHeaderJson;
}

/** Two conflicting votes one validator signed for one (type, height, round). */
export interface EvidenceJson {
  validator: Hex;
  type: "prevote" | "precommit";
  height: number;
  round: number;
  /** The two values signed (null = nil). */
  blockHashes: [Hex | null, Hex | null];
  /** DuplicateVoteEvidence, canonically encoded: verify it, do not trust the fields above. */
  evidenceBytes: Hex;
}

export interface BlockJson {
  block: CertifiedHeaderJson;
  txs: TransactionJson[];
  /** Equivocations recorded by this block. */
  evidence: EvidenceJson[];
  /** The whole block, canonically encoded. */
  blockBytes: Hex;
}

export interface ValidatorsJson {
  height: number;
  hash: Hex;
  validators: { publicKey: Hex; address: string; power: string }[];
  /** ValidatorSet, canonically encoded (hashes to `hash`). */
  validatorSetBytes: Hex;
}

/**
 * GET /v1/genesis: the height-0 header and the set that signs height 1. A
 * light client anchors its trust here: it checks `header` against a genesis
 * hash it got from a source it trusts, and the set against the header.
 */
export interface GenesisJson {
  /** The genesis header's hash (what `trust.genesisHash` pins). */
  hash: Hex;
  header: HeaderJson;
  headerBytes: Hex;
  /** ValidatorSet, canonically encoded: the set that signs height 1. */
  validatorSetBytes: Hex;
}

export interface StatusJson {
  chainId: string;
  nodeVersion: string;
  genesisHash: Hex;
  height: number;
  latestHash: Hex;
  latestTime: number;
  validator: { publicKey: Hex; address: string } | null;
  mempool: { size: number; bytes: number };
  /** The protocol version the next block (height + 1) is built under. */
  protocolVersion: number;
  /**
   * The genesis's upgrade schedule as this node holds it. It is not in the
   * genesis hash (protocol/upgrades.ts), so two nodes of one chain can hold
   * different ones: compare it across nodes before an activation height.
   */
  upgrades: { height: number; version: number }[];
}

/** GET /health: the HTTP server runs. */
export interface HealthJson {
  ok: true;
}

/**
 * GET /v1/health: the node's health, decided in this order (the first that
 * holds): state-syncing (it joins by state sync; `stateSync` says how far), halted (it committed its configured haltHeight and stopped
 * proposing and voting), live (it serves but has no peer, and needs one),
 * syncing (block sync found it more than a few blocks behind a peer),
 * catching-up (not behind, but its last commit is older than the node's
 * stall limit), ready. 200 when ready, 503 otherwise; `?probe=live`: 200.
 */
export interface NodeHealthJson {
  status: "state-syncing" | "halted" | "live" | "syncing" | "catching-up" | "ready";
  height: number;
  /** Now minus the last committed block's (BFT) time, in ms. */
  lastCommitAgeMs: number;
  /** Connected libp2p peers. */
  peers: number;
  /** This node's key signs the next block. */
  validator: boolean;
  /** The highest certified block seen from a peer, or our height if higher. */
  bestPeerHeight: number;
  /** bestPeerHeight minus height. */
  behind: number;
  /** The configured haltHeight, or null. */
  haltHeight: number | null;
  /** What this node keeps on disk (pruning, snapshots, size); absent while state-syncing, before the chain opens. */
  storage?: StorageHealthJson;
  /** While the node joins by state sync (status state-syncing), the join's progress. */
  stateSync?: StateSyncHealthJson;
}

/** A join by state sync under way (GET /v1/health). */
export interface StateSyncHealthJson {
  phase: "discovering" | "verifying" | "fetching" | "finishing";
  /** The snapshot height taken, 0 before one is. */
  snapshotHeight: number;
  /** Chunks verified and written, those a killed earlier run wrote included. */
  chunksDone: number;
  /** Non-empty chunks of the snapshot, 0 before its manifest. */
  chunksTotal: number;
  /** Chunk bytes received and verified in this run. */
  bytes: number;
  /** Chunk answers refused as a peer's fault. */
  chunksRefused: number;
  /** Peers that served at least one chunk. */
  peers: number;
}

/** The storage part of GET /v1/health (db/pruner.ts, statesync/snapshots.ts). */
export interface StorageHealthJson {
  /** The pruning options in force; 0 keeps all of that kind. */
  retention: { keepRecent: number; retainBlocks: number; retainHeaders: number };
  /** The oldest height whose state (account proofs) this node serves. */
  earliestState: number;
  /** The oldest height whose block body this node serves. */
  earliestBlock: number;
  /** Every header from this height on is served; below it, only validator-set changes. */
  earliestHeader: number;
  /** Snapshots kept for state sync, and the newest one's height (null: none). */
  snapshots: { count: number; latest: number | null };
  /** Bytes of the database's files on disk (read at most every few seconds). */
  dbSizeBytes: number;
  /** When the last pruning pass of this run ended (unix ms); null before the first. */
  lastPruneAt: number | null;
}

/** One event of GET /v1/heads (Server-Sent Events, event name "head"). */
export type HeadEventJson = CertifiedHeaderJson;

/** Every error answer: `{ code, message, details }` with the right HTTP status. */
export interface ErrorJson {
  code: string;
  message: string;
  details: Record<string, unknown>;
}
