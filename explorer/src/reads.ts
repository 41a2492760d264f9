/**
 * The explorer's reads, each verified by the SDK before anything of it is
 * shown, returned with what was checked (badge.ts). The raw answer is read
 * through the client's transport and handed to the SDK's own verify*Answer
 * (the functions the edge uses), so the proof whose depth the badge names is
 * the very proof that was verified. The validator set that signed each
 * certificate comes through the SDK too (getValidators, proven by a header).
 */

import {
  type BlockHeader,
  type Client,
  decodeMerkleProof,
  decodeStateProof,
  type FinalityCertificate,
  fromHex,
  getValidators,
  toHex,
  type ValidatorSet,
  type VerifiedAccount,
  type VerifiedBlock,
  type VerifiedTransaction,
  verifyAccountAnswer,
  verifyBlockAnswer,
  verifyTransactionAnswer,
  verifyValidatorsAnswer,
} from "@edgeledger/sdk";
import {
  type AccountJson,
  type BlockJson,
  type CertifiedHeaderJson,
  pathOf,
  paths,
  type TransactionStatusJson,
  type ValidatorsJson,
} from "@edgeledger/sdk/api";
import { type Checked, certificateCheck } from "./badge.ts";

export interface Verified<T> {
  readonly value: T;
  readonly checked: Checked;
}

/** The reads of one page load, over one SDK client (one light client, one anchor). */
export class Reads {
  readonly client: Client;
  /** Verified sets by the hex of their hash: a set changes rarely, and each is proven once. */
  readonly #sets = new Map<string, ValidatorSet>();

  constructor(client: Client) {
    this.client = client;
  }

  /** The set that signed `header` (its validatorsHash), verified by the SDK. */
  async #setOf(header: BlockHeader): Promise<ValidatorSet> {
    const key = toHex(header.validatorsHash);
    const known = this.#sets.get(key);
    if (known) return known;
    const { validators } = await getValidators(this.client, { height: header.height });
    this.#sets.set(key, validators);
    return validators;
  }

  async #checked(
    header: BlockHeader,
    certificate: FinalityCertificate,
    proof: Checked["proof"],
  ): Promise<Checked> {
    if (header.height === 0)
      return { headerHeight: 0, certificate: null, proof: { kind: "anchor" } };
    return {
      headerHeight: header.height,
      certificate: certificateCheck(certificate, await this.#setOf(header)),
      proof,
    };
  }

  async block(
    id: { height: number } | { hash: string } | "latest",
  ): Promise<Verified<VerifiedBlock>> {
    const params = id === "latest" ? {} : id;
    const key = id === "latest" ? "latest" : "hash" in id ? id.hash : String(id.height);
    const path = pathOf("getBlock", { id: key });
    const json = await this.client.transport.request<BlockJson>({ method: "GET", path });
    const block = await verifyBlockAnswer(this.client, json, params);
    return {
      value: block,
      checked: await this.#checked(block.block.header, block.certificate, {
        kind: "contents",
        txs: block.block.txs.length,
      }),
    };
  }

  async account(address: string): Promise<Verified<VerifiedAccount>> {
    const json = await this.client.transport.request<AccountJson>({
      method: "GET",
      path: pathOf("getAccount", { address }),
    });
    const account = await verifyAccountAnswer(this.client, json, { address });
    // Verified just now: the proof decodes, and is the one checked.
    const proof = decodeStateProof(fromHex(json.proof));
    return {
      value: account,
      checked: await this.#checked(account.header, account.certificate, {
        kind: "state",
        depth: proof.siblings.length,
        present: account.exists,
      }),
    };
  }

  /** Null: the server has never seen it. Pending or dropped: the server's word, marked so. */
  async transaction(hash: string): Promise<{
    json: TransactionStatusJson;
    verified: Verified<VerifiedTransaction> | null;
  } | null> {
    let json: TransactionStatusJson;
    try {
      json = await this.client.transport.request<TransactionStatusJson>({
        method: "GET",
        path: pathOf("getTransaction", { hash }),
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === "NOT_FOUND") return null;
      throw err;
    }
    const tx = await verifyTransactionAnswer(this.client, json, hash);
    if (tx.status !== "committed") return { json, verified: null };
    const proof = decodeMerkleProof(fromHex(json.proof ?? ""));
    return {
      json,
      verified: {
        value: tx,
        checked: await this.#checked(tx.header, tx.certificate, {
          kind: "merkle",
          depth: proof.siblings.length,
          index: proof.index,
          size: proof.size,
        }),
      },
    };
  }

  /**
   * The set that signed block `height` (none: the latest block, whose height
   * the server's status names; only the set is trusted, proven by that
   * header's validatorsHash), and the header's certificate for the badge.
   * The latest block's, not the next one's: the next header does not exist
   * yet, and asking for it is a 404 that the browser logs as an error.
   */
  async validators(height?: number): Promise<Verified<{ height: number; set: ValidatorSet }>> {
    const at = height ?? (await this.client.getStatus()).height;
    const json = await this.client.transport.request<ValidatorsJson>({
      method: "GET",
      path: paths.getValidators,
      query: { height: at },
    });
    const { validators } = await verifyValidatorsAnswer(this.client, json, { height: at });
    const named = await this.header(at);
    return {
      value: { height: at, set: validators },
      checked: await this.#checked(named.header, named.certificate, {
        kind: "set",
        field: "validatorsHash",
      }),
    };
  }

  /** A certified header, verified (header and certificate). */
  async header(height: number): Promise<{ header: BlockHeader; certificate: FinalityCertificate }> {
    const json = await this.client.transport.request<CertifiedHeaderJson>({
      method: "GET",
      path: pathOf("getHeader", { height: String(height) }),
    });
    return this.client.lightClient.verifyCertifiedHeader(json);
  }
}
