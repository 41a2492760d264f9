/**
 * Protocol objects → the API's JSON shapes (types.ts), defined once: the
 * node renders its answers with these, and the edge re-renders every answer
 * it verified from the decoded bytes, so the readable fields it serves are
 * the verified ones, not whatever an upstream wrote next to the bytes.
 */

import type { BaseError } from "../errors/base.ts";
import { addressFromPublicKey, formatAddress } from "../protocol/address.ts";
import {
  type Block,
  type BlockHeader,
  blockHash,
  encodeBlockHeader,
  headerProtocolVersion,
} from "../protocol/block.ts";
import { toHex } from "../protocol/bytes.ts";
import { type DuplicateVoteEvidence, encodeEvidence } from "../protocol/evidence.ts";
import {
  encodeFinalityCertificate,
  type FinalityCertificate,
} from "../protocol/finalityCertificate.ts";
import { type SignedTransaction, transactionHash } from "../protocol/transaction.ts";
import {
  encodeValidatorSet,
  type ValidatorSet,
  validatorSetHash,
} from "../protocol/validatorSet.ts";
import { errorJson } from "./errors.ts";
import { pathOf } from "./paths.ts";
import type {
  AccountJson,
  BlockJson,
  CertificateJson,
  CertifiedHeaderJson,
  EvidenceJson,
  GenesisJson,
  HeaderJson,
  SubmitResultJson,
  SubmitTransactionResponse,
  TransactionJson,
  ValidatorsJson,
} from "./types.ts";

export function headerJson(h: BlockHeader): HeaderJson {
  return {
    hash: toHex(blockHash(h)),
    chainId: h.chainId,
    height: h.height,
    time: h.time,
    parentHash: toHex(h.parentHash),
    txRoot: toHex(h.txRoot),
    txCount: h.txCount,
    evidenceRoot: toHex(h.evidenceRoot),
    stateRoot: toHex(h.stateRoot),
    validatorsHash: toHex(h.validatorsHash),
    nextValidatorsHash: toHex(h.nextValidatorsHash),
    proposer: toHex(h.proposer),
    protocolVersion: headerProtocolVersion(h),
  };
}

export function certificateJson(c: FinalityCertificate): CertificateJson {
  return {
    height: c.height,
    round: c.round,
    blockHash: toHex(c.blockHash),
    signatures: c.signatures.map((s) => ({
      validatorIndex: s.validatorIndex,
      signature: toHex(s.signature),
    })),
  };
}

export function certifiedHeaderJson(h: BlockHeader, c: FinalityCertificate): CertifiedHeaderJson {
  return {
    header: headerJson(h),
    headerBytes: toHex(encodeBlockHeader(h)),
    certificate: certificateJson(c),
    certificateBytes: toHex(encodeFinalityCertificate(c)),
  };
}

export function evidenceJson(e: DuplicateVoteEvidence): EvidenceJson {
  const v = e.first.vote;
  const hex = (h: Uint8Array | null) => (h ? toHex(h) : null);
  return {
    validator: toHex(v.validator),
    type: v.type,
    height: v.height,
    round: v.round,
    blockHashes: [hex(v.blockHash), hex(e.second.vote.blockHash)],
    evidenceBytes: toHex(encodeEvidence(e)),
  };
}

export function transactionJson(stx: SignedTransaction): TransactionJson {
  const { tx } = stx;
  return {
    hash: toHex(transactionHash(tx)),
    chainId: tx.chainId,
    from: toHex(tx.from),
    sender: formatAddress(addressFromPublicKey(tx.from)),
    nonce: tx.nonce,
    expiresAt: tx.expiresAt,
    body:
      tx.body.kind === "transfer"
        ? { kind: "transfer", to: formatAddress(tx.body.to), amount: tx.body.amount.toString() }
        : {
            kind: "validator-vote",
            validator: toHex(tx.body.validator),
            power: tx.body.power.toString(),
          },
    signature: toHex(stx.signature),
  };
}

/** GET /v1/blocks: a final block, its certificate and its canonical bytes. */
export function blockJson(
  block: Block,
  certificate: FinalityCertificate,
  blockBytes: Uint8Array,
): BlockJson {
  return {
    block: certifiedHeaderJson(block.header, certificate),
    txs: block.txs.map(transactionJson),
    evidence: block.evidence.map(evidenceJson),
    blockBytes: toHex(blockBytes),
  };
}

/** GET /v1/accounts: an account (or its proven absence) at a height, with its state proof. */
export function accountJson(answer: {
  /** bech32m, as formatAddress spells it. */
  readonly address: string;
  readonly height: number;
  readonly account: { readonly balance: bigint; readonly nonce: number } | null;
  /** The StateProof, canonically encoded. */
  readonly proof: Uint8Array;
  readonly header: BlockHeader;
  readonly certificate: FinalityCertificate;
}): AccountJson {
  const { account } = answer;
  return {
    address: answer.address,
    height: answer.height,
    account: account && { balance: account.balance.toString(), nonce: account.nonce },
    proof: toHex(answer.proof),
    block: certifiedHeaderJson(answer.header, answer.certificate),
  };
}

/** The set that signs block `height`. */
export function validatorsJson(height: number, set: ValidatorSet): ValidatorsJson {
  return {
    height,
    hash: toHex(validatorSetHash(set)),
    validators: set.map((v) => ({
      publicKey: toHex(v.publicKey),
      address: formatAddress(addressFromPublicKey(v.publicKey)),
      power: v.power.toString(),
    })),
    validatorSetBytes: toHex(encodeValidatorSet(set)),
  };
}

/** The genesis header and `validators`, the set that signs height 1. */
export function genesisJson(header: BlockHeader, validators: ValidatorSet): GenesisJson {
  return {
    hash: toHex(blockHash(header)),
    header: headerJson(header),
    headerBytes: toHex(encodeBlockHeader(header)),
    validatorSetBytes: toHex(encodeValidatorSet(validators)),
  };
}

/** A transaction admitted to the mempool (POST /v1/transactions, /v1/dev/transfer). */
export function submittedJson(hash: Uint8Array): SubmitTransactionResponse {
  return { hash: toHex(hash), status: "pending" };
}

/** Where an admitted transaction is followed: the answer's `location`. */
export function submittedLocation(hash: Uint8Array): string {
  return pathOf("getTransaction", { hash: toHex(hash) });
}

/** One result of a batch submission: admitted, or refused in the error shape. */
export function submitResultJson(
  result: { readonly hash: Uint8Array } | { readonly error: BaseError },
): SubmitResultJson {
  return "hash" in result ? submittedJson(result.hash) : { error: errorJson(result.error) };
}
