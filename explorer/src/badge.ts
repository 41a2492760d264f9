/**
 * What a badge says: for each item shown, what was checked (the header's
 * certificate: how many validators signed, their power of the set's total,
 * the round; the proof: its kind, depth and the header height it is
 * against), and for an answer that failed, the error code and message the
 * SDK gave. Pure: the page renders these strings, the tests pin them. Text
 * and a symbol carry the verdict, so it reads without colour.
 */
import {
  type FinalityCertificate,
  totalPower,
  type ValidatorSet,
  VerificationError,
} from "@edgeledger/sdk";
import { formatShare } from "./format.ts";

/** A finality certificate as checked against the set that signed it. */
export interface CertificateCheck {
  readonly height: number;
  readonly round: number;
  readonly signers: number;
  readonly validators: number;
  readonly signerPower: bigint;
  readonly totalPower: bigint;
}

/** What, besides the header, an item was checked with. */
export type ProofCheck =
  /** A block: its transactions, their count and its evidence hash to the header's roots. */
  | { readonly kind: "contents"; readonly txs: number }
  /** An account: a sparse Merkle proof (of presence or absence) against the state root. */
  | { readonly kind: "state"; readonly depth: number; readonly present: boolean }
  /** A transaction: an RFC 9162 audit path against the transaction root. */
  | {
      readonly kind: "merkle";
      readonly depth: number;
      readonly index: number;
      readonly size: number;
    }
  /** A validator set: its hash is the one a verified header names. */
  | { readonly kind: "set"; readonly field: "validatorsHash" | "nextValidatorsHash" }
  /** The genesis: its hash is the pinned anchor (nobody signs it). */
  | { readonly kind: "anchor" };

export interface Checked {
  /** The verified header everything else is checked against. */
  readonly headerHeight: number;
  /** Null for the genesis, which is trusted by its hash. */
  readonly certificate: CertificateCheck | null;
  readonly proof: ProofCheck;
}

/** The certificate's signers counted against the set that signed it (indices are into the set). */
export function certificateCheck(cert: FinalityCertificate, set: ValidatorSet): CertificateCheck {
  let signerPower = 0n;
  for (const s of cert.signatures) signerPower += set[s.validatorIndex]?.power ?? 0n;
  return {
    height: cert.height,
    round: cert.round,
    signers: cert.signatures.length,
    validators: set.length,
    signerPower,
    totalPower: totalPower(set),
  };
}

function signedBy(c: CertificateCheck): string {
  return `signed by ${c.signers} of ${c.validators} validators (power ${c.signerPower} of ${c.totalPower}, ${formatShare(c.signerPower, c.totalPower)}), round ${c.round}`;
}

function proofText(p: ProofCheck, height: number): string {
  switch (p.kind) {
    case "contents":
      return `${p.txs} transaction${p.txs === 1 ? "" : "s"} and evidence hash to header ${height}'s roots`;
    case "state":
      return `state proof of ${p.present ? "presence" : "absence"}, depth ${p.depth}, against header ${height}`;
    case "merkle":
      return `Merkle proof, depth ${p.depth} (leaf ${p.index + 1} of ${p.size}), against header ${height}`;
    case "set":
      return `set hash is header ${height}'s ${p.field}`;
    case "anchor":
      return `genesis hash is the pinned anchor`;
  }
}

/** The badge of a verified item: "✔ Verified: <proof>; header <h> signed by …". */
export function badgeText(c: Checked): string {
  const proof = proofText(c.proof, c.headerHeight);
  return c.certificate
    ? `✔ Verified: ${proof}; header ${c.headerHeight} ${signedBy(c.certificate)}`
    : `✔ Verified: ${proof}`;
}

export interface Failure {
  /** The SDK's stable code (VERIFY_PROOF, VERIFY_MISMATCH, …), or the transport's. */
  readonly code: string;
  readonly message: string;
  /** True when the answer was checked and refused; false when no answer came. */
  readonly refused: boolean;
}

/** What went wrong with an answer, for the warning. */
export function failureOf(err: unknown): Failure {
  const code = (err as { code?: unknown })?.code;
  const message =
    (err as { shortMessage?: unknown })?.shortMessage ?? (err as { message?: unknown })?.message;
  return {
    code: typeof code === "string" ? code : "UNKNOWN",
    message: typeof message === "string" ? message : String(err),
    refused: err instanceof VerificationError,
  };
}

/** The warning shown instead of an item: never the item's values, only why they are withheld. */
export function warningText(f: Failure): string {
  return f.refused
    ? `⚠ NOT VERIFIED — ${f.code}: ${f.message} The server's answer failed verification, so it is not shown.`
    : `⚠ Not shown — ${f.code}: ${f.message}`;
}
