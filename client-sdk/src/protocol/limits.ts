/**
 * Protocol-wide bounds. Decoders enforce them before allocating, so they are
 * part of consensus: changing one is a protocol change.
 */
export const CHAIN_ID_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
export const MAX_CHAIN_ID_LENGTH = 64;

/** Largest encoded signed transaction. A transfer is about 170 bytes. */
export const MAX_TX_BYTES = 4096;
export const MAX_BLOCK_TXS = 20_000;
export const MAX_BLOCK_BYTES = 4 * 1024 * 1024;
export const MAX_VALIDATORS = 256;
/** Most equivocation evidence items one block records. */
export const MAX_BLOCK_EVIDENCE = 64;
/** Evidence about a height more than this many blocks below the block that records it is refused. */
export const MAX_EVIDENCE_AGE = 100_000;
/** Depth of the state tree: one level per bit of a SHA-256 key. */
export const STATE_TREE_DEPTH = 256;
/** A tx Merkle proof over at most 2^32 leaves has at most 64 siblings (RFC 9162 shape). */
export const MAX_MERKLE_PROOF_SIBLINGS = 64;
