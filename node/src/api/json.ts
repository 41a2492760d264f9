/** Protocol objects → the shared JSON shapes (client-sdk/src/api/types.ts). */
import type {
  CertificateJson,
  CertifiedHeaderJson,
  EvidenceJson,
  HeaderJson,
  TransactionJson,
} from "@edgeledger/sdk/api";
import {
  addressFromPublicKey,
  type BlockHeader,
  blockHash,
  type DuplicateVoteEvidence,
  encodeBlockHeader,
  encodeEvidence,
  encodeFinalityCertificate,
  type FinalityCertificate,
  formatAddress,
  type SignedTransaction,
  toHex,
  transactionHash,
} from "@edgeledger/sdk/protocol";

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
