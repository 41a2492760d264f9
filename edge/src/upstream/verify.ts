/**
 * Verifying an upstream's answers before anything is cached or served, with
 * the SDK: its verify*Answer functions and light client. What is served is
 * then rendered again from the verified bytes (@edgeledger/sdk/api's
 * rendering, the node's own), so no readable field an upstream wrote beside
 * the bytes reaches a client unchecked.
 *
 * One SDK client per upstream, speaking only to that upstream: the headers
 * and validator sets that prove an answer come from where the answer came
 * from. With one client over every upstream, a proof could fail because of
 * another upstream's support data, and the edge could neither blame the
 * right upstream nor fail over past a lying one.
 */

import {
  type Client,
  createClient,
  type TrustAnchor,
  VerificationError,
  verifyAccountAnswer,
  verifyBlockAnswer,
  verifyGenesisAnswer,
  verifyTransactionAnswer,
  verifyValidatorsAnswer,
  type WatchHeadsOptions,
} from "@edgeledger/sdk";
import {
  type AccountJson,
  accountJson,
  type BlockJson,
  blockJson,
  type CertifiedHeaderJson,
  certifiedHeaderJson,
  type GenesisJson,
  genesisJson,
  type TransactionStatusJson,
  transactionJson,
  type ValidatorsJson,
  validatorsJson,
} from "@edgeledger/sdk/api";
import {
  type BlockHeader,
  blockHash,
  decodeSignedTransaction,
  fromHex,
  type SignatureVerifier,
  toHex,
  transactionHash,
  validatorSetHash,
} from "@edgeledger/sdk/protocol";
import { EdgeError } from "../errors.ts";

/** A verified answer, ready to cache and serve. */
export interface Verified {
  /** What to serve: rendered from the verified bytes. */
  readonly json: unknown;
  /** Entity tag (weak: see `quote`); absent for answers that are never cached. */
  readonly etag?: string;
  /** The height the answer is valid at. */
  readonly height?: number;
  /** The verified header it was proven against, if any (it may move the edge's head). */
  readonly header?: BlockHeader;
  /** Final: it can never change, so it may be cached for good. */
  readonly final: boolean;
  /**
   * The fields served on the upstream's word alone, which no proof backs
   * (sent as `x-edgeledger-unverified`); absent when every field is checked.
   */
  readonly unverified?: readonly string[];
}

/** Verifies answers from one upstream, fetching support data (headers, sets) from it alone. */
export interface AnswerVerifier {
  account(json: unknown, address: string, height: number): Promise<Verified>;
  block(json: unknown, asked: { height: number } | { hash: string }): Promise<Verified>;
  header(json: unknown, height: number): Promise<Verified>;
  transaction(json: unknown, hash: string): Promise<Verified>;
  validators(json: unknown, height: number): Promise<Verified>;
  genesis(json: unknown): Promise<Verified>;
  /** The verified header at `height` (0: the trusted genesis). */
  headerAt(height: number): Promise<BlockHeader>;
  /** Each new final header of this upstream, verified (the SDK's watchHeads). */
  watchHeads(onHead: (header: BlockHeader) => void, options: WatchHeadsOptions): () => void;
}

export interface SdkVerifierOptions {
  readonly url: string;
  readonly chainId: string;
  readonly trust: TrustAnchor;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  /** Default: the SDK's (WebCrypto Ed25519 where present, noble otherwise). */
  readonly verifier?: SignatureVerifier;
}

/**
 * Weak tags: nodes keep different (equally valid) sets of signatures in a
 * block's certificate, so the same block may be served as different bytes
 * by another edge or after a refetch. It is the same block all the same.
 */
const quote = (tag: string) => `W/"${tag}"`;

/** A final answer proven against `header`: tagged and valid at its height. */
const provenBy = (json: unknown, header: BlockHeader): Verified => ({
  json,
  etag: quote(toHex(blockHash(header))),
  height: header.height,
  header,
  final: true,
});

/** Bytes as the API spells them (lowercase hex), whatever spelling decoded. */
const hex = (text: string) => toHex(fromHex(text));

export function sdkVerifier(o: SdkVerifierOptions): AnswerVerifier {
  const client: Client = createClient({
    url: o.url,
    chainId: o.chainId,
    trust: o.trust,
    // One try: failing over is the edge's job, across upstreams.
    http: { fetch: o.fetch, timeoutMs: o.timeoutMs, retries: 0 },
    ...(o.verifier && { verifier: o.verifier }),
  });

  return {
    async account(json, address, height) {
      const answer = json as AccountJson;
      const v = await verifyAccountAnswer(client, answer, { address, height });
      const rendered = accountJson({
        address: v.address,
        height: v.height,
        account: v.exists ? { balance: v.balance, nonce: v.nonce } : null,
        proof: fromHex(answer.proof),
        header: v.header,
        certificate: v.certificate,
      });
      return provenBy(rendered, v.header);
    },

    async block(json, asked) {
      const answer = json as BlockJson;
      const v = await verifyBlockAnswer(client, answer, asked);
      const header = v.block.header;
      const rendered = blockJson(v.block, v.certificate, fromHex(answer.blockBytes));
      return { json: rendered, etag: quote(v.hash), height: header.height, header, final: true };
    },

    async header(json, height) {
      const answer = json as CertifiedHeaderJson;
      const { header, certificate } = await client.lightClient.verifyCertifiedHeader(answer);
      if (header.height !== height)
        throw new VerificationError("VERIFY_MISMATCH", "The server answered with another height.", {
          details: { asked: height, answered: header.height },
        });
      return provenBy(certifiedHeaderJson(header, certificate), header);
    },

    async transaction(json, hash) {
      const answer = json as TransactionStatusJson;
      const v = await verifyTransactionAnswer(client, answer, hash);
      if (v.status === "committed") {
        const rendered: TransactionStatusJson = {
          hash: v.hash,
          status: "committed",
          tx: transactionJson(v.tx),
          txBytes: hex(answer.txBytes),
          receipt: { height: v.height, index: v.index, status: "success" },
          proof: hex(answer.proof!),
          block: certifiedHeaderJson(v.header, v.certificate),
        };
        return provenBy(rendered, v.header);
      }
      // Pending or dropped: the server's word, which no proof backs. At least
      // the transaction shown must be the one asked about.
      const stx = decodeSignedTransaction(fromHex(answer.txBytes));
      if (toHex(transactionHash(stx.tx)) !== v.hash)
        throw new VerificationError("VERIFY_MISMATCH", "The answer is about another transaction.");
      const rendered: TransactionStatusJson = {
        hash: v.hash,
        status: v.status,
        tx: transactionJson(stx),
        txBytes: hex(answer.txBytes),
        ...(v.status === "dropped" && {
          error: { code: String(v.error.code), message: String(v.error.message) },
        }),
      };
      return {
        json: rendered,
        final: false,
        unverified: v.status === "dropped" ? ["status", "error"] : ["status"],
      };
    },

    async validators(json, height) {
      const v = await verifyValidatorsAnswer(client, json as ValidatorsJson, { height });
      return {
        json: validatorsJson(v.height, v.validators),
        // The body names its height, so the tag does too: one set signs many heights.
        etag: quote(`${toHex(validatorSetHash(v.validators))}-${v.height}`),
        height: v.height,
        final: true,
      };
    },

    async genesis(json) {
      if (!("genesisHash" in o.trust))
        throw new EdgeError(
          "EDGE_NOT_VERIFIABLE",
          "This edge trusts a checkpoint, not a genesis hash, so it cannot vouch for a genesis; ask a node you trust.",
        );
      const v = verifyGenesisAnswer(json as GenesisJson, {
        chainId: o.chainId,
        genesisHash: o.trust.genesisHash,
      });
      return {
        json: genesisJson(v.header, v.validators),
        etag: quote(toHex(v.hash)),
        height: 0,
        final: true,
      };
    },

    headerAt: (height) => client.lightClient.header(height),

    watchHeads: (onHead, options) => client.watchHeads(onHead, options),
  };
}
