/**
 * Finality certificates: the precommit signatures of more than two thirds of
 * a block's validator set (by power) for (height, round, block hash). A block
 * with a valid certificate is final. Signers are named by their index in the
 * canonical (sorted) validator set, strictly ascending, so a certificate
 * cannot count one validator twice.
 */
import { CertificateError } from "../errors/protocol.ts";
import { equalBytes } from "./bytes.ts";
import {
  type Codec,
  decode,
  encode,
  sortedSet,
  struct,
  u16,
  u32,
  versioned,
} from "./codec/codec.ts";
import { hashField, heightField, signatureField } from "./fields.ts";
import { MAX_VALIDATORS } from "./limits.ts";
import type { SignatureVerifier } from "./signatures/backend.ts";
import { hasQuorum, totalPower, type ValidatorSet } from "./validatorSet.ts";
import { voteDigest } from "./vote.ts";

export interface CertificateSignature {
  readonly validatorIndex: number;
  readonly signature: Uint8Array;
}

export interface FinalityCertificate {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly signatures: readonly CertificateSignature[];
}

export const finalityCertificateCodec: Codec<FinalityCertificate> = versioned(
  1,
  struct<FinalityCertificate>("FinalityCertificate", {
    height: heightField,
    round: u32("round"),
    blockHash: hashField("blockHash"),
    signatures: sortedSet(
      "signatures",
      struct<CertificateSignature>("CertificateSignature", {
        validatorIndex: u16("validatorIndex"),
        signature: signatureField,
      }),
      MAX_VALIDATORS,
      (s) => s.validatorIndex,
    ),
  }),
);

export function encodeFinalityCertificate(cert: FinalityCertificate): Uint8Array {
  return encode(finalityCertificateCodec, cert);
}
export function decodeFinalityCertificate(bytes: Uint8Array): FinalityCertificate {
  return decode(finalityCertificateCodec, bytes, { maxBytes: 64 + MAX_VALIDATORS * 66 });
}

/**
 * The certificate served with the genesis header (height 0): nobody signs
 * the genesis, which is trusted by its hash, so its certificate names it
 * and carries no signature. It is the only one a client accepts for it.
 */
export function genesisCertificate(genesisHash: Uint8Array): FinalityCertificate {
  return { height: 0, round: 0, blockHash: genesisHash, signatures: [] };
}

export interface CertificateTarget {
  readonly chainId: string;
  readonly height: number;
  readonly blockHash: Uint8Array;
  /** The validator set that must have signed (the block header's `validatorsHash`). */
  readonly validators: ValidatorSet;
}

/**
 * Throws a CertificateError unless `cert` finalizes `target.blockHash` at
 * `target.height` on `target.chainId` with more than 2/3 of the set's power.
 * Every listed signature must be valid: a certificate padded with a bad one
 * is rejected whole, so a certificate is either entirely right or refused.
 */
export async function verifyFinalityCertificate(
  cert: FinalityCertificate,
  target: CertificateTarget,
  verifier: SignatureVerifier,
): Promise<void> {
  if (cert.height !== target.height) {
    throw new CertificateError("CERT_WRONG_HEIGHT", "Certificate is for another height.", {
      details: { certificate: cert.height, expected: target.height },
    });
  }
  if (!equalBytes(cert.blockHash, target.blockHash)) {
    throw new CertificateError("CERT_WRONG_BLOCK", "Certificate is for another block hash.");
  }
  const checks: Promise<boolean>[] = [];
  let power = 0n;
  let previous = -1;
  for (const { validatorIndex, signature } of cert.signatures) {
    if (validatorIndex <= previous) {
      throw new CertificateError(
        "CERT_DUPLICATE_SIGNER",
        "Certificate signers must be strictly ascending.",
        {
          details: { validatorIndex },
        },
      );
    }
    previous = validatorIndex;
    const validator = target.validators[validatorIndex];
    if (!validator) {
      throw new CertificateError(
        "CERT_UNKNOWN_SIGNER",
        "Certificate names a validator outside the set.",
        {
          details: { validatorIndex, setSize: target.validators.length },
        },
      );
    }
    power += validator.power;
    const digest = voteDigest(target.chainId, {
      type: "precommit",
      height: cert.height,
      round: cert.round,
      blockHash: cert.blockHash,
      validator: validator.publicKey,
    });
    if (verifier.verifySync) {
      if (!verifier.verifySync(signature, digest, validator.publicKey))
        throw badSignature(validatorIndex);
    } else {
      checks.push(verifier.verify(signature, digest, validator.publicKey));
    }
  }
  const total = totalPower(target.validators);
  if (!hasQuorum(power, total)) {
    throw new CertificateError(
      "CERT_INSUFFICIENT_POWER",
      "Certificate signers hold 2/3 of the power or less.",
      {
        details: { signedPower: power, totalPower: total },
      },
    );
  }
  const results = await Promise.all(checks);
  const bad = results.indexOf(false);
  if (bad >= 0) throw badSignature(cert.signatures[bad]!.validatorIndex);
}

function badSignature(validatorIndex: number): CertificateError {
  return new CertificateError("CERT_BAD_SIGNATURE", "A certificate signature does not verify.", {
    details: { validatorIndex },
  });
}
