/**
 * `getAccount`, and its verifier `verifyAccountAnswer`: an account's
 * balance and nonce at a height, proven by the state proof against the
 * certified header's state root (or proven absent). A latest answer is
 * held to the freshness of what this client verified (verify/answer.ts).
 */
import { pathOf } from "../../api/paths.ts";
import type { AccountJson } from "../../api/types.ts";
import { VerificationError, verificationFailed } from "../../errors/client.ts";
import { formatAddress, parseAddress } from "../../protocol/address.ts";
import type { BlockHeader } from "../../protocol/block.ts";
import { fromHex } from "../../protocol/bytes.ts";
import type { FinalityCertificate } from "../../protocol/finalityCertificate.ts";
import { verifyAccountProof } from "../../protocol/state/account.ts";
import { decodeStateProof } from "../../protocol/state/sparseMerkleTree.ts";
import type { BaseClient } from "../clients/baseClient.ts";
import { checkFresh, verifying } from "../verify/answer.ts";

export interface VerifiedAccount {
  readonly address: string;
  /** The height whose state this is. */
  readonly height: number;
  /** False: no account at this address at that height (proven absent). */
  readonly exists: boolean;
  readonly balance: bigint;
  /** The nonce its next transaction must carry. */
  readonly nonce: number;
  readonly header: BlockHeader;
  /** The certificate `header` was verified with. */
  readonly certificate: FinalityCertificate;
}

export async function getAccount(
  client: BaseClient,
  params: { address: string; height?: number; signal?: AbortSignal },
): Promise<VerifiedAccount> {
  const address = parseAddress(params.address);
  const json = await client.transport.request<AccountJson>({
    method: "GET",
    path: pathOf("getAccount", { address: formatAddress(address) }),
    query: { height: params.height },
    ...(params.signal && { signal: params.signal }),
  });
  return verifyAccountAnswer(client, json, params);
}

/**
 * Verifies a GET /v1/accounts answer (from any server) for the address and
 * height asked. For servers that pass answers on, like the edge, which keep
 * the JSON and need only the verdict.
 */
async function checkAccountAnswer(
  client: BaseClient,
  json: AccountJson,
  params: { address: string; height?: number },
): Promise<VerifiedAccount> {
  const address = parseAddress(params.address);
  if (json.address !== formatAddress(address))
    throw new VerificationError("VERIFY_MISMATCH", "The answer is about another address.", {
      details: { asked: formatAddress(address), got: json.address },
    });
  const { header, certificate } = await client.lightClient.verifyCertifiedHeader(json.block);
  if (
    header.height !== json.height ||
    (params.height !== undefined && header.height !== params.height)
  )
    throw new VerificationError("VERIFY_MISMATCH", "The answer is for another height.", {
      details: { asked: params.height, answered: json.height, header: header.height },
    });
  if (params.height === undefined) checkFresh(client, header);
  const account = json.account
    ? { balance: BigInt(json.account.balance), nonce: json.account.nonce }
    : null;
  try {
    verifyAccountProof(header.stateRoot, address, account, decodeStateProof(fromHex(json.proof)));
  } catch (err) {
    throw verificationFailed("VERIFY_PROOF", "The account does not match the state proof", err);
  }
  return {
    address: formatAddress(address),
    height: header.height,
    exists: account !== null,
    balance: account?.balance ?? 0n,
    nonce: account?.nonce ?? 0,
    header,
    certificate,
  };
}

/**
 * Verifies a GET /v1/accounts answer (from any server) for the address and
 * height asked. For servers that pass answers on, like the edge, which keep
 * the JSON and need only the verdict. Throws VerificationError.
 */
export function verifyAccountAnswer(
  client: BaseClient,
  json: AccountJson,
  params: { address: string; height?: number },
): Promise<VerifiedAccount> {
  return verifying("account", () => checkAccountAnswer(client, json, params));
}
