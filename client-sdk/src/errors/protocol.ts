/**
 * Errors raised by the protocol package: decoding hostile bytes, parsing
 * addresses, handling keys, and verifying certificates, header chains and
 * proofs. Every class carries a stable code from the unions below.
 */
import { BaseError, type BaseErrorOptions } from "./base.ts";

export type DecodeErrorCode =
  | "DECODE_TRUNCATED"
  | "DECODE_TRAILING_BYTES"
  | "DECODE_TOO_LARGE"
  | "DECODE_NON_CANONICAL"
  | "DECODE_OUT_OF_RANGE"
  | "DECODE_UNKNOWN_VERSION"
  | "DECODE_UNKNOWN_KIND";

/** Bytes that are not the one canonical encoding of a value. */
export class DecodeError extends BaseError<DecodeErrorCode> {
  override name = "DecodeError";
}

/** A value that cannot be encoded (out of range, wrong length, unsorted set...). */
export class EncodeError extends BaseError<"ENCODE_INVALID_VALUE"> {
  override name = "EncodeError";
  constructor(shortMessage: string, options?: BaseErrorOptions) {
    super("ENCODE_INVALID_VALUE", shortMessage, options);
  }
}

export type AddressErrorCode =
  | "ADDRESS_INVALID_FORMAT"
  | "ADDRESS_INVALID_CHECKSUM"
  | "ADDRESS_WRONG_PREFIX"
  | "ADDRESS_WRONG_LENGTH";

export class AddressError extends BaseError<AddressErrorCode> {
  override name = "AddressError";
}

export type KeyErrorCode = "KEY_INVALID_LENGTH" | "KEY_INVALID_HEX" | "KEY_NOT_EXPORTABLE";

export class KeyError extends BaseError<KeyErrorCode> {
  override name = "KeyError";
}

export type CertificateErrorCode =
  | "CERT_WRONG_HEIGHT"
  | "CERT_WRONG_BLOCK"
  | "CERT_UNKNOWN_SIGNER"
  | "CERT_DUPLICATE_SIGNER"
  | "CERT_BAD_SIGNATURE"
  | "CERT_INSUFFICIENT_POWER";

/** A finality certificate that does not prove what it claims. */
export class CertificateError extends BaseError<CertificateErrorCode> {
  override name = "CertificateError";
}

export type HeaderChainErrorCode =
  | "HEADER_WRONG_CHAIN"
  | "HEADER_NOT_NEXT"
  | "HEADER_PARENT_MISMATCH"
  | "HEADER_TIME_NOT_INCREASING"
  | "HEADER_VALIDATORS_MISMATCH"
  | "HEADER_NEXT_VALIDATORS_MISMATCH"
  /** Skipping: too little of the trusted set signed it; verify a header in between first. */
  | "HEADER_NOT_ENOUGH_TRUST";

/** A header that does not follow from the trusted one. */
export class HeaderChainError extends BaseError<HeaderChainErrorCode> {
  override name = "HeaderChainError";
}

export type EvidenceErrorCode =
  | "EVIDENCE_MALFORMED"
  | "EVIDENCE_UNKNOWN_VALIDATOR"
  | "EVIDENCE_BAD_SIGNATURE"
  | "EVIDENCE_TOO_OLD"
  | "EVIDENCE_FROM_FUTURE"
  | "EVIDENCE_ALREADY_RECORDED";

/** A claimed equivocation that does not prove one (or cannot be recorded). */
export class EvidenceError extends BaseError<EvidenceErrorCode> {
  override name = "EvidenceError";
}

export type ProofErrorCode =
  | "PROOF_ROOT_MISMATCH"
  | "PROOF_WRONG_KEY"
  | "PROOF_WRONG_VALUE"
  | "PROOF_MALFORMED"
  | "PROOF_UNSUPPORTED_VERSION";

/** A Merkle or state proof that does not lead to the trusted root. */
export class ProofError extends BaseError<ProofErrorCode> {
  override name = "ProofError";
}

/**
 * Why a transaction was refused (at signing, at admission to a mempool) or
 * dropped after admission. Node, edge and SDK share these codes.
 */
export type TransactionErrorCode =
  | "TX_SIGNER_MISMATCH"
  | "TX_MALFORMED"
  | "TX_TOO_LARGE"
  | "TX_WRONG_CHAIN"
  | "TX_BAD_SIGNATURE"
  | "TX_EXPIRED"
  | "TX_EXPIRY_TOO_FAR"
  | "TX_NONCE_TOO_LOW"
  | "TX_NONCE_TOO_HIGH"
  | "TX_INSUFFICIENT_BALANCE"
  | "TX_UNKNOWN_ACCOUNT"
  | "TX_INVALID_AMOUNT"
  /** From protocol version 2: a transfer to its own sender (the toy rule of upgrades, operations.md). */
  | "TX_SELF_TRANSFER"
  | "TX_NOT_VALIDATOR"
  | "TX_INVALID_VALIDATOR_KEY"
  | "TX_DUPLICATE"
  | "MEMPOOL_FULL"
  | "MEMPOOL_ACCOUNT_LIMIT"
  | "MEMPOOL_EVICTED";

export class TransactionError extends BaseError<TransactionErrorCode> {
  override name = "TransactionError";
}

/** A request an API (node or edge) cannot serve as asked. */
export type ApiErrorCode =
  | "REQUEST_INVALID"
  /** The path exists, but not with this method (or the method is unknown, or CONNECT). */
  | "METHOD_NOT_ALLOWED"
  | "BODY_TOO_LARGE"
  | "NOT_FOUND"
  | "HEIGHT_NOT_AVAILABLE"
  /** The state at that height was pruned here; `details.oldest` is the first served (ask an archive node). */
  | "STATE_PRUNED"
  /** That block's body was dropped here (its header stays); `details.oldest` is the first body served. */
  | "BLOCK_PRUNED"
  /**
   * That header and its certificate were dropped here (pruning.retainHeaders);
   * `details.keptBelow` / `keptAbove` are the nearest heights still served
   * (validator-set changes are always kept), null if none.
   */
  | "HEADER_PRUNED"
  | "UNAVAILABLE"
  | "INTERNAL";

export class ApiError extends BaseError<ApiErrorCode> {
  override name = "ApiError";
}

/** The state tree's store lacks a node a root refers to: an incomplete or corrupt store. */
export class StateStoreError extends BaseError<"STATE_NODE_MISSING"> {
  override name = "StateStoreError";
}

/** This runtime lacks something the call needs (e.g. WebCrypto Ed25519). */
export class RuntimeSupportError extends BaseError<"RUNTIME_UNSUPPORTED"> {
  override name = "RuntimeSupportError";
}
