/**
 * The HTTP API's route table, defined once: method, path, input schemas,
 * body limit, response schemas, operationId and summary of every route. The node's
 * fastify server binds these (and generates /openapi.json from them), the
 * edge serves the same paths, and the SDK builds its requests from the
 * paths (paths.ts, which this table is built on), so a path or a schema
 * cannot drift between the three.
 *
 * Plain JSON Schema objects (`as const`, no schema library) so that any
 * runtime can read them. Response schemas describe types.ts exactly; inputs
 * set `additionalProperties: false` so an unknown field is an error, not a
 * silently ignored typo. Owns no behaviour: it may not import anything but
 * the protocol's constants and the paths.
 *
 * Path and query values arrive as strings, and the server does not coerce
 * types (coercion would turn a JSON number into a valid-looking hex string in
 * a body), so heights in a path or query are decimal strings with a pattern.
 *
 * Long on purpose: it is the whole API's schema, one route after another,
 * read (and diffed) as a specification is.
 */
import { ADDRESS_LENGTH, ADDRESS_PREFIX } from "../protocol/address.ts";
import { CHAIN_ID_PATTERN, MAX_CHAIN_ID_LENGTH, MAX_TX_BYTES } from "../protocol/limits.ts";
import { paths } from "./paths.ts";

/** Shown in the OpenAPI document's `info`. Bump `version` when a route or shape changes. */
export const API_INFO = {
  title: "edgeledger node API",
  version: "1.0.0",
  description:
    "Submit transactions, read blocks, accounts and validators with the proofs that verify them, and follow finalized heads.",
} as const;

/** The Server-Sent Events event name of each finalized head on GET /v1/heads. */
export const HEAD_EVENT = "head";

// ---------------------------------------------------------------------------
// Wire formats: each defined once and reused by every schema below.

/** Hex of 32 bytes (hashes, roots). Lowercase only: one spelling per value keeps cache keys unique. */
const hash32 = {
  type: "string",
  pattern: "^[0-9a-f]{64}$",
  description: "32 bytes, lowercase hex",
} as const;

const publicKey = {
  type: "string",
  pattern: "^[0-9a-f]{64}$",
  description: "Ed25519 public key, 32 bytes, lowercase hex",
} as const;

const signature = {
  type: "string",
  pattern: "^[0-9a-f]{128}$",
  description: "Ed25519 signature, 64 bytes, lowercase hex",
} as const;

/** Any byte string: canonical encodings and proofs. */
const bytes = {
  type: "string",
  pattern: "^(?:[0-9a-f]{2})*$",
  description: "bytes, lowercase hex",
} as const;

/** u128 amounts and balances: at most 39 decimal digits, no leading zeros. */
const amount = {
  type: "string",
  pattern: "^(?:0|[1-9][0-9]*)$",
  maxLength: 39,
  description: "unsigned integer (u128) as a decimal string",
} as const;

/** Voting power: the protocol bounds it to 2^53 - 1, so at most 16 digits. */
const power = {
  type: "string",
  pattern: "^(?:0|[1-9][0-9]*)$",
  maxLength: 16,
  description: "voting power as a decimal string",
} as const;

const safeInteger = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const height = { ...safeInteger, description: "block height" } as const;
const unixMs = { ...safeInteger, description: "unix time in milliseconds" } as const;

const chainId = {
  type: "string",
  pattern: CHAIN_ID_PATTERN.source,
  maxLength: MAX_CHAIN_ID_LENGTH,
} as const;

/** A 20-byte address in bech32m: the prefix, "1", 32 data characters and a 6-character checksum. */
const address = {
  type: "string",
  pattern: `^${ADDRESS_PREFIX}1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{${Math.ceil((ADDRESS_LENGTH * 8) / 5) + 6}}$`,
  description: `account address, bech32m ("${ADDRESS_PREFIX}1…")`,
} as const;

/**
 * A height in a path or a query. 16 digits bound it near 2^53; the server
 * refuses the few 16-digit values above Number.MAX_SAFE_INTEGER.
 */
const heightText = {
  type: "string",
  pattern: "^(?:0|[1-9][0-9]{0,15})$",
  description: "block height, decimal",
} as const;

// ---------------------------------------------------------------------------
// The JSON shapes of types.ts.

export const headerSchema = {
  type: "object",
  required: [
    "hash",
    "chainId",
    "height",
    "time",
    "parentHash",
    "txRoot",
    "txCount",
    "evidenceRoot",
    "stateRoot",
    "validatorsHash",
    "nextValidatorsHash",
    "proposer",
    "protocolVersion",
  ],
  properties: {
    hash: hash32,
    chainId,
    height,
    time: unixMs,
    parentHash: hash32,
    txRoot: hash32,
    txCount: { type: "integer", minimum: 0, maximum: 0xffff_ffff },
    evidenceRoot: hash32,
    stateRoot: hash32,
    validatorsHash: hash32,
    nextValidatorsHash: hash32,
    proposer: publicKey,
    protocolVersion: { type: "integer", minimum: 1, maximum: 0xffff_ffff },
  },
} as const;

export const certificateSchema = {
  type: "object",
  required: ["height", "round", "blockHash", "signatures"],
  properties: {
    height,
    round: { type: "integer", minimum: 0, maximum: 0xffff_ffff },
    blockHash: hash32,
    signatures: {
      type: "array",
      items: {
        type: "object",
        required: ["validatorIndex", "signature"],
        properties: {
          validatorIndex: { type: "integer", minimum: 0, maximum: 0xffff },
          signature,
        },
      },
    },
  },
} as const;

export const certifiedHeaderSchema = {
  type: "object",
  description: "A header with the finality certificate that makes it final.",
  required: ["header", "headerBytes", "certificate", "certificateBytes"],
  properties: {
    header: headerSchema,
    headerBytes: bytes,
    certificate: certificateSchema,
    certificateBytes: bytes,
  },
} as const;

export const transactionBodySchema = {
  oneOf: [
    {
      type: "object",
      required: ["kind", "to", "amount"],
      properties: { kind: { type: "string", const: "transfer" }, to: address, amount },
    },
    {
      type: "object",
      required: ["kind", "validator", "power"],
      properties: {
        kind: { type: "string", const: "validator-vote" },
        validator: publicKey,
        power,
      },
    },
  ],
} as const;

export const transactionSchema = {
  type: "object",
  required: ["hash", "chainId", "from", "sender", "nonce", "expiresAt", "body", "signature"],
  properties: {
    hash: hash32,
    chainId,
    from: publicKey,
    sender: address,
    nonce: safeInteger,
    expiresAt: unixMs,
    body: transactionBodySchema,
    signature,
  },
} as const;

export const submitTransactionRequestSchema = {
  type: "object",
  additionalProperties: false,
  required: ["tx"],
  properties: {
    tx: {
      type: "string",
      pattern: "^(?:[0-9a-f]{2})+$",
      maxLength: MAX_TX_BYTES * 2,
      description: "the signed transaction's canonical encoding, lowercase hex",
    },
  },
} as const;

export const submitTransactionResponseSchema = {
  type: "object",
  description: "Admitted to the mempool; follow it at GET /v1/transactions/{hash}.",
  required: ["hash", "status"],
  properties: { hash: hash32, status: { type: "string", const: "pending" } },
} as const;

/** Most transactions in one batch submission. */
export const MAX_BATCH_TXS = 1000;

/**
 * The body limit of a route that sets none, in bytes: 64 KiB. A signed
 * transaction is at most 4 KiB (8 KiB as hex); the rest is slack.
 */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** A full batch of the largest transactions, as hex in JSON (quotes and commas included). */
const BATCH_BODY_LIMIT = MAX_BATCH_TXS * (MAX_TX_BYTES * 2 + 3) + 64;

export const submitTransactionsRequestSchema = {
  type: "object",
  additionalProperties: false,
  required: ["txs"],
  properties: {
    txs: {
      type: "array",
      minItems: 1,
      maxItems: MAX_BATCH_TXS,
      items: submitTransactionRequestSchema.properties.tx,
    },
  },
} as const;

export const submitTransactionsResponseSchema = {
  type: "object",
  description:
    "One result per submitted transaction, in order: admitted (hash) or refused (error).",
  required: ["results"],
  properties: {
    results: {
      type: "array",
      items: {
        oneOf: [
          {
            type: "object",
            required: ["hash", "status"],
            properties: { hash: hash32, status: { type: "string", const: "pending" } },
          },
          {
            type: "object",
            required: ["error"],
            properties: {
              error: {
                type: "object",
                required: ["code", "message", "details"],
                properties: {
                  code: { type: "string" },
                  message: { type: "string" },
                  details: { type: "object", additionalProperties: true },
                },
              },
            },
          },
        ],
      },
    },
  },
} as const;

export const receiptSchema = {
  type: "object",
  required: ["height", "index", "status"],
  properties: {
    height,
    index: { type: "integer", minimum: 0, maximum: 0xffff_ffff },
    status: { type: "string", const: "success" },
  },
} as const;

export const transactionStatusSchema = {
  type: "object",
  required: ["hash", "status", "tx", "txBytes"],
  properties: {
    hash: hash32,
    status: { type: "string", enum: ["pending", "committed", "dropped"] },
    tx: transactionSchema,
    txBytes: bytes,
    receipt: receiptSchema,
    proof: { ...bytes, description: "MerkleProof of txBytes against block.header.txRoot" },
    block: certifiedHeaderSchema,
    error: {
      type: "object",
      description: "dropped only: why",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" } },
    },
  },
} as const;

export const accountSchema = {
  type: "object",
  required: ["address", "height", "account", "proof", "block"],
  properties: {
    address,
    height,
    account: {
      type: ["object", "null"],
      description: "null: the account does not exist at that height (the proof shows absence)",
      required: ["balance", "nonce"],
      properties: { balance: amount, nonce: safeInteger },
    },
    proof: { ...bytes, description: "StateProof against block.header.stateRoot" },
    block: certifiedHeaderSchema,
  },
} as const;

export const evidenceSchema = {
  type: "object",
  required: ["validator", "type", "height", "round", "blockHashes", "evidenceBytes"],
  properties: {
    validator: publicKey,
    type: { type: "string", enum: ["prevote", "precommit"] },
    height,
    round: { type: "integer", minimum: 0, maximum: 0xffff_ffff },
    blockHashes: {
      type: "array",
      minItems: 2,
      maxItems: 2,
      items: { anyOf: [hash32, { type: "null" }] },
      description: "the two values the validator signed (null = nil)",
    },
    evidenceBytes: { ...bytes, description: "DuplicateVoteEvidence, canonically encoded" },
  },
} as const;

export const blockSchema = {
  type: "object",
  required: ["block", "txs", "evidence", "blockBytes"],
  properties: {
    block: certifiedHeaderSchema,
    txs: { type: "array", items: transactionSchema },
    evidence: {
      type: "array",
      items: evidenceSchema,
      description: "equivocations this block records",
    },
    blockBytes: { ...bytes, description: "the whole block, canonically encoded" },
  },
} as const;

export const genesisSchema = {
  type: "object",
  required: ["hash", "header", "headerBytes", "validatorSetBytes"],
  properties: {
    hash: hash32,
    header: headerSchema,
    headerBytes: { ...bytes, description: "BlockHeader at height 0, canonically encoded" },
    validatorSetBytes: {
      ...bytes,
      description: "ValidatorSet signing height 1, canonically encoded",
    },
  },
} as const;

export const validatorsSchema = {
  type: "object",
  required: ["height", "hash", "validators", "validatorSetBytes"],
  properties: {
    height,
    hash: hash32,
    validators: {
      type: "array",
      items: {
        type: "object",
        required: ["publicKey", "address", "power"],
        properties: { publicKey, address, power },
      },
    },
    validatorSetBytes: { ...bytes, description: "the ValidatorSet, canonically encoded" },
  },
} as const;

export const statusSchema = {
  type: "object",
  required: [
    "chainId",
    "nodeVersion",
    "genesisHash",
    "height",
    "latestHash",
    "latestTime",
    "validator",
    "mempool",
    "protocolVersion",
    "upgrades",
  ],
  properties: {
    chainId,
    nodeVersion: { type: "string" },
    genesisHash: hash32,
    height,
    latestHash: hash32,
    latestTime: unixMs,
    validator: {
      type: ["object", "null"],
      description: "this node's validator key, or null when it does not validate",
      required: ["publicKey", "address"],
      properties: { publicKey, address },
    },
    mempool: {
      type: "object",
      required: ["size", "bytes"],
      properties: { size: safeInteger, bytes: safeInteger },
    },
    protocolVersion: { ...safeInteger, description: "the version the next block is built under" },
    upgrades: {
      type: "array",
      description:
        "the genesis upgrade schedule this node holds (not in the genesis hash: compare across nodes)",
      items: {
        type: "object",
        required: ["height", "version"],
        properties: { height, version: safeInteger },
      },
    },
  },
} as const;

export const healthSchema = {
  type: "object",
  required: ["ok"],
  properties: { ok: { type: "boolean", const: true } },
} as const;

/** The states of GET /v1/health, in the order the node decides them (docs/operations.md#health). */
export const NODE_HEALTH_STATES = [
  "state-syncing",
  "halted",
  "live",
  "syncing",
  "catching-up",
  "ready",
] as const;

/** The steps of a join by state sync, in order (GET /v1/health's `stateSync.phase`). */
export const STATE_SYNC_PHASES = ["discovering", "verifying", "fetching", "finishing"] as const;

const stateSyncHealthSchema = {
  type: "object",
  description: "present only while the node joins by state sync (status state-syncing)",
  required: [
    "phase",
    "snapshotHeight",
    "chunksDone",
    "chunksTotal",
    "bytes",
    "chunksRefused",
    "peers",
  ],
  properties: {
    phase: {
      type: "string",
      enum: STATE_SYNC_PHASES,
      description:
        "discovering: asking peers for snapshots; verifying: the snapshot height's header; fetching: the manifest and chunks; finishing: the one batch that makes the snapshot the head",
    },
    snapshotHeight: { ...safeInteger, description: "the snapshot height taken, 0 before one is" },
    chunksDone: {
      ...safeInteger,
      description: "chunks verified and written (resumed ones included)",
    },
    chunksTotal: {
      ...safeInteger,
      description: "non-empty chunks of the snapshot, 0 before its manifest",
    },
    bytes: { ...safeInteger, description: "chunk bytes received and verified in this run" },
    chunksRefused: {
      ...safeInteger,
      description: "chunk answers refused as a peer's fault (each peer banned)",
    },
    peers: { ...safeInteger, description: "peers that served at least one chunk" },
  },
} as const;

/** The `storage` field of the health report: what pruning and snapshots keep. */
const storageHealthSchema = {
  type: "object",
  additionalProperties: false,
  required: [
    "retention",
    "earliestState",
    "earliestBlock",
    "earliestHeader",
    "snapshots",
    "dbSizeBytes",
    "lastPruneAt",
  ],
  properties: {
    retention: {
      type: "object",
      additionalProperties: false,
      required: ["keepRecent", "retainBlocks", "retainHeaders"],
      description: "the pruning options in force (config pruning.*); 0 keeps all of that kind",
      properties: {
        keepRecent: safeInteger,
        retainBlocks: safeInteger,
        retainHeaders: safeInteger,
      },
    },
    earliestState: { ...height, description: "the oldest height whose state is served" },
    earliestBlock: { ...height, description: "the oldest height whose block body is served" },
    earliestHeader: {
      ...height,
      description:
        "every header from this height on is served; below it, validator-set changes only",
    },
    snapshots: {
      type: "object",
      additionalProperties: false,
      required: ["count", "latest"],
      description: "state-sync snapshots kept, and the newest one's height",
      properties: {
        count: safeInteger,
        latest: { type: ["integer", "null"], minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      },
    },
    dbSizeBytes: { ...safeInteger, description: "bytes of the database's files on disk" },
    lastPruneAt: {
      type: ["integer", "null"],
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: "when the last pruning pass of this run ended (unix ms), or null",
    },
  },
} as const;

export const nodeHealthSchema = {
  type: "object",
  description:
    "What a load balancer and an operator need: ready (200) or why not (503); `?probe=live` answers 200 whenever the node serves.",
  required: [
    "status",
    "height",
    "lastCommitAgeMs",
    "peers",
    "validator",
    "bestPeerHeight",
    "behind",
    "haltHeight",
  ],
  properties: {
    status: {
      type: "string",
      enum: NODE_HEALTH_STATES,
      description:
        "state-syncing: joining by state sync (see stateSync); halted: stopped at haltHeight; live: serving, without the peers it needs; syncing: block sync is behind the best peer; catching-up: not behind, but no recent commit; ready: following the chain with peers",
    },
    height,
    lastCommitAgeMs: {
      ...safeInteger,
      description: "now minus the time of the last committed block (BFT time), in ms",
    },
    peers: { ...safeInteger, description: "connected libp2p peers" },
    validator: { type: "boolean", description: "this node's key signs the next block" },
    bestPeerHeight: {
      ...height,
      description:
        "the highest certified block seen from a peer (block sync), or our height if higher",
    },
    behind: { ...safeInteger, description: "bestPeerHeight minus height" },
    haltHeight: {
      type: ["integer", "null"],
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: "the configured haltHeight, or null",
    },
    stateSync: stateSyncHealthSchema,
    storage: storageHealthSchema,
  },
} as const;

/** Every error answer, whatever the status. */
export const errorSchema = {
  type: "object",
  required: ["code", "message", "details"],
  properties: {
    code: { type: "string", description: "stable machine code, e.g. TX_NONCE_TOO_LOW" },
    message: { type: "string", description: "what went wrong and what to do" },
    details: { type: "object", additionalProperties: true },
  },
} as const;

// ---------------------------------------------------------------------------
// Inputs.

const hashParams = {
  type: "object",
  additionalProperties: false,
  required: ["hash"],
  properties: { hash: hash32 },
} as const;

const heightQuery = {
  type: "object",
  additionalProperties: false,
  properties: { height: heightText },
} as const;

// ---------------------------------------------------------------------------
// The routes.

/** A JSON Schema, as a plain object. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** A response that is not JSON: its media type and a schema of the body. */
export interface MediaResponse {
  readonly description: string;
  readonly content: { readonly [mediaType: string]: { readonly schema: JsonSchema } };
}

export interface RouteDefinition {
  readonly method: "GET" | "POST";
  /** Fastify-style: `:name` marks a path parameter. */
  readonly path: string;
  /** Unique; equals the route's key in `routes`, so SDK action names follow from it. */
  readonly operationId: string;
  readonly summary: string;
  readonly params?: JsonSchema;
  readonly querystring?: JsonSchema;
  readonly body?: JsonSchema;
  /**
   * Largest request body in bytes, where a route needs another than
   * DEFAULT_BODY_LIMIT (read it with bodyLimitOf); a larger one answers 413.
   */
  readonly bodyLimit?: number;
  /** By status code ("200", "4xx"...). A schema with a `description` documents that answer. */
  readonly response: { readonly [status: string]: JsonSchema | MediaResponse };
}

const errors = {
  "4xx": { ...errorSchema, description: "The request cannot be served as asked (see `code`)." },
  "5xx": { ...errorSchema, description: "The node cannot serve now (UNAVAILABLE) or failed." },
} as const;

const notFound = (what: string) => ({ ...errorSchema, description: `NOT_FOUND: ${what}` }) as const;

export const routes = {
  submitTransaction: {
    method: "POST",
    path: paths.submitTransaction,
    operationId: "submitTransaction",
    summary:
      "Submit a signed transaction to the mempool. 400 TX_* when refused, 409 TX_DUPLICATE, 503 MEMPOOL_* when full.",
    body: submitTransactionRequestSchema,
    response: { 202: submitTransactionResponseSchema, ...errors },
  },
  submitTransactions: {
    method: "POST",
    path: paths.submitTransactions,
    operationId: "submitTransactions",
    summary:
      "Submit up to 1000 signed transactions in one request; each is admitted or refused on its own (200 with per-transaction results).",
    body: submitTransactionsRequestSchema,
    bodyLimit: BATCH_BODY_LIMIT,
    response: { 200: submitTransactionsResponseSchema, ...errors },
  },
  getTransaction: {
    method: "GET",
    path: paths.getTransaction,
    operationId: "getTransaction",
    summary:
      "A transaction's status; once committed, with its receipt, Merkle proof and certified header.",
    params: hashParams,
    response: {
      200: transactionStatusSchema,
      404: notFound("this node has never seen the hash"),
      ...errors,
    },
  },
  getAccount: {
    method: "GET",
    path: paths.getAccount,
    operationId: "getAccount",
    summary:
      "An account's balance and nonce at a height (default: latest), with its state proof and certified header.",
    params: {
      type: "object",
      additionalProperties: false,
      required: ["address"],
      // Only bounded here: the address parser answers with the precise
      // ADDRESS_* code (checksum, prefix, length), which a pattern would hide.
      properties: {
        address: {
          type: "string",
          minLength: 1,
          maxLength: 90,
          description: `account address, bech32m ("${ADDRESS_PREFIX}1…")`,
        },
      },
    },
    querystring: heightQuery,
    response: {
      200: accountSchema,
      404: notFound("HEIGHT_NOT_AVAILABLE: the height is not final yet"),
      410: {
        ...errorSchema,
        description: "STATE_PRUNED: this node no longer keeps that height's state",
      },
      ...errors,
    },
  },
  getBlock: {
    method: "GET",
    path: paths.getBlock,
    operationId: "getBlock",
    summary:
      "A final block by height, by hash, or `latest`, with its certificate and transactions.",
    params: {
      type: "object",
      additionalProperties: false,
      required: ["id"],
      properties: {
        id: {
          type: "string",
          pattern: "^(?:latest|0|[1-9][0-9]{0,15}|[0-9a-f]{64})$",
          description: "`latest`, a decimal height, or a block hash (64 lowercase hex)",
        },
      },
    },
    response: {
      200: blockSchema,
      404: notFound("no final block with this id"),
      410: {
        ...errorSchema,
        description: "BLOCK_PRUNED: the body was dropped here (its header stays)",
      },
      ...errors,
    },
  },
  getHeader: {
    method: "GET",
    path: paths.getHeader,
    operationId: "getHeader",
    summary: "The certified header at a height: what a light client verifies proofs against.",
    params: {
      type: "object",
      additionalProperties: false,
      required: ["height"],
      properties: { height: heightText },
    },
    response: {
      200: certifiedHeaderSchema,
      404: notFound("no final header at this height"),
      410: {
        ...errorSchema,
        description:
          "HEADER_PRUNED: dropped here (pruning.retainHeaders); `details.keptBelow` / `keptAbove` are the nearest headers kept",
      },
      ...errors,
    },
  },
  getGenesis: {
    method: "GET",
    path: paths.getGenesis,
    operationId: "getGenesis",
    summary:
      "The genesis header and the validator set that signs height 1: where a light client anchors its trust (check the hash against one you trust).",
    response: { 200: genesisSchema, ...errors },
  },
  getValidators: {
    method: "GET",
    path: paths.getValidators,
    operationId: "getValidators",
    summary: "The validator set that signs block `height` (default: the next block).",
    querystring: heightQuery,
    response: {
      200: validatorsSchema,
      404: notFound("HEIGHT_NOT_AVAILABLE: the set at that height is not known yet"),
      ...errors,
    },
  },
  devTransfer: {
    method: "POST",
    path: paths.devTransfer,
    operationId: "devTransfer",
    summary:
      "Dev chains only (`edgeledger dev`, i.e. `npm start`): the node signs a transfer from its funded dev account and submits it like any other. Absent on a real node.",
    body: {
      type: "object",
      additionalProperties: false,
      required: ["to", "amount"],
      properties: { to: address, amount },
    },
    response: { 202: submitTransactionResponseSchema, ...errors },
  },
  getStatus: {
    method: "GET",
    path: paths.getStatus,
    operationId: "getStatus",
    summary: "The node's chain, latest final block, validator identity and mempool size.",
    response: { 200: statusSchema, ...errors },
  },
  getNodeHealth: {
    method: "GET",
    path: paths.getNodeHealth,
    operationId: "getNodeHealth",
    summary:
      "The node's health: 200 when ready (following the chain with peers and a recent commit), 503 with the same body otherwise (a readiness probe); `?probe=live` answers 200 whenever the node serves (a liveness probe).",
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: {
        probe: {
          type: "string",
          enum: ["live", "ready"],
          description: "ready (default): 503 unless ready; live: 200 whatever the state",
        },
      },
    },
    response: { 200: nodeHealthSchema, 503: nodeHealthSchema, ...errors },
  },
  subscribeHeads: {
    method: "GET",
    path: paths.subscribeHeads,
    operationId: "subscribeHeads",
    summary: `Server-Sent Events: each finalized head as \`event: ${HEAD_EVENT}\` with a CertifiedHeaderJson as \`data\`; a comment line every 15 s keeps proxies from closing the stream.`,
    response: {
      200: {
        description: `A text/event-stream of "${HEAD_EVENT}" events; each data line is a CertifiedHeaderJson.`,
        content: { "text/event-stream": { schema: { type: "string" } } },
      },
      ...errors,
    },
  },
  getMetrics: {
    method: "GET",
    path: paths.getMetrics,
    operationId: "getMetrics",
    summary: "Prometheus metrics, text exposition format.",
    response: {
      200: {
        description: "Prometheus text format",
        content: { "text/plain": { schema: { type: "string" } } },
      },
      ...errors,
    },
  },
  getOpenApi: {
    method: "GET",
    path: "/openapi.json",
    operationId: "getOpenApi",
    summary: "This API as an OpenAPI 3.1 document, generated from this route table.",
    response: {
      200: { type: "object", additionalProperties: true, description: "OpenAPI 3.1 document" },
      ...errors,
    },
  },
  getHealth: {
    method: "GET",
    path: "/health",
    operationId: "getHealth",
    summary:
      "A node: liveness, answers while the HTTP server runs. An edge: readiness, 200 when it can serve verified reads and 503 with the reason otherwise; `?probe=live` is its liveness (edge/README.md).",
    response: { 200: healthSchema, ...errors },
  },
} as const satisfies Record<string, RouteDefinition>;

export type RouteName = keyof typeof routes;

/** The largest body a route takes, in bytes (node and edge refuse more with 413). */
export function bodyLimitOf(route: RouteDefinition): number {
  return route.bodyLimit ?? DEFAULT_BODY_LIMIT;
}
