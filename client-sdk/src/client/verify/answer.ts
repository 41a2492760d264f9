/**
 * What every read action's verifier shares: how fresh a "latest" answer
 * must be, and how whatever else a malformed answer makes a check throw
 * becomes a VerificationError (the only verdict a caller may see).
 */
import { TransportError, VerificationError, verificationFailed } from "../../errors/client.ts";
import type { BlockHeader } from "../../protocol/block.ts";
import type { BaseClient } from "../clients/baseClient.ts";

/**
 * An answer for "latest" must not be older than what this client already
 * verified, beyond `maxLagBlocks` (servers behind each other by a block or
 * two is normal; a server serving old state as current is not).
 */
export function checkFresh(client: BaseClient, header: BlockHeader): void {
  checkFreshHeight(client, header.height);
}

/** `checkFresh` for an answer about `height` (the state after that block). */
export function checkFreshHeight(client: BaseClient, height: number): void {
  const latest = client.lightClient.latest;
  if (latest && height + client.maxLagBlocks < latest.height)
    throw new VerificationError(
      "VERIFY_STALE",
      `The server answered with state at height ${height}, but this client has verified height ${latest.height}.`,
      { details: { served: height, verified: latest.height } },
    );
}

/*
 * The verify*Answer functions, as exported: each runs its check and turns
 * whatever else a malformed or forged answer makes it throw into a
 * VerificationError. A field of the wrong type (a TypeError, a SyntaxError
 * from BigInt), bytes that do not decode (DecodeError, KeyError), or a
 * refusal (ApiError) of the support data the SDK asked for because the
 * answer named it (the header at a forged height): none of these is a
 * verdict on the answer, so none may reach the caller as one. A
 * TransportError stays one: the server could not be reached, which says
 * nothing about the answer, and trying again may help.
 */
export async function verifying<T>(what: string, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    if (err instanceof VerificationError || err instanceof TransportError) throw err;
    throw verificationFailed("VERIFY_INCOMPLETE", `The ${what} answer cannot be verified`, err);
  }
}
