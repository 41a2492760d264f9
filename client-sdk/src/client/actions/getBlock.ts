/**
 * `getBlock`, and its verifier `verifyBlockAnswer`: a final block by
 * height, hash or latest, its header certified and its contents (the
 * transactions, their count, the evidence) hashing to that header's roots.
 */
import { pathOf } from "../../api/paths.ts";
import type { BlockJson } from "../../api/types.ts";
import { VerificationError } from "../../errors/client.ts";
import {
  type Block,
  blockHash,
  decodeBlock,
  evidenceRoot,
  transactionsRoot,
} from "../../protocol/block.ts";
import { equalBytes, fromHex, toHex } from "../../protocol/bytes.ts";
import type { FinalityCertificate } from "../../protocol/finalityCertificate.ts";
import type { BaseClient } from "../clients/baseClient.ts";
import { checkFresh, verifying } from "../verify/answer.ts";

export interface VerifiedBlock {
  readonly block: Block;
  readonly hash: string;
  /** The certificate the block's header was verified with. */
  readonly certificate: FinalityCertificate;
}

export async function getBlock(
  client: BaseClient,
  params: { height?: number; hash?: string; signal?: AbortSignal } = {},
): Promise<VerifiedBlock> {
  const id = params.hash ?? (params.height === undefined ? "latest" : String(params.height));
  const json = await client.transport.request<BlockJson>({
    method: "GET",
    path: pathOf("getBlock", { id }),
    ...(params.signal && { signal: params.signal }),
  });
  return verifyBlockAnswer(client, json, params);
}

/** Verifies a GET /v1/blocks answer for the height or hash asked (neither: latest). */
async function checkBlockAnswer(
  client: BaseClient,
  json: BlockJson,
  params: { height?: number; hash?: string },
): Promise<VerifiedBlock> {
  const { header, certificate } = await client.lightClient.verifyCertifiedHeader(json.block);
  let block: Block;
  try {
    block = decodeBlock(fromHex(json.blockBytes));
  } catch (err) {
    throw new VerificationError("VERIFY_INCOMPLETE", "The block does not decode.", { cause: err });
  }
  const hash = blockHash(header);
  if (
    !equalBytes(blockHash(block.header), hash) ||
    !equalBytes(transactionsRoot(block.txs), header.txRoot) ||
    block.txs.length !== header.txCount ||
    !equalBytes(evidenceRoot(block.evidence), header.evidenceRoot)
  )
    throw new VerificationError("VERIFY_MISMATCH", "The block's contents are not its header's.");
  if (
    (params.height !== undefined && header.height !== params.height) ||
    (params.hash !== undefined && toHex(hash) !== params.hash.toLowerCase())
  )
    throw new VerificationError("VERIFY_MISMATCH", "The server answered with another block.");
  if (params.height === undefined && params.hash === undefined) checkFresh(client, header);
  return { block, hash: toHex(hash), certificate };
}

/** Verifies a GET /v1/blocks answer for the height or hash asked (neither: latest). */
export function verifyBlockAnswer(
  client: BaseClient,
  json: BlockJson,
  params: { height?: number; hash?: string },
): Promise<VerifiedBlock> {
  return verifying("block", () => checkBlockAnswer(client, json, params));
}
