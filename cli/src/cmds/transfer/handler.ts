/**
 * `edgeledger transfer`: signs a transfer with a key file (nonce from the
 * verified account), submits it through the SDK and waits until it is
 * final (its receipt verified) or dropped; prints the outcome as JSON and
 * exits 1 unless it was committed.
 */
import { readKeyFile } from "@edgeledger/node";
import { type Client, localSigner } from "@edgeledger/sdk";
import { toHex } from "@edgeledger/sdk/protocol";
import { clientFor } from "../../util/client.ts";
import type { TransferArgs } from "./options.ts";

export type TransferOutcome =
  | { hash: string; status: "committed"; height: number; index: number; blockHash: string }
  | { hash: string; status: "dropped"; error: { code: string; message: string } };

export async function transferHandler(args: TransferArgs): Promise<void> {
  const { key, to, amount, ...target } = args;
  const result = await sendTransfer(clientFor(target), key, to, amount);
  console.log(JSON.stringify(result, null, 2));
  if (result.status !== "committed") process.exitCode = 1;
}

/**
 * Signs a transfer with `keyFile` (nonce from the verified account), submits
 * it and waits until it is final (its receipt verified) or dropped.
 */
export async function sendTransfer(
  client: Client,
  keyFile: string,
  to: string,
  amount: bigint,
): Promise<TransferOutcome> {
  const signer = localSigner(readKeyFile(keyFile));
  const sent = await client.transfer({ signer, to, amount });
  try {
    const receipt = await sent.wait({ timeoutMs: 30_000 });
    return {
      hash: sent.hash,
      status: "committed",
      height: receipt.height,
      index: receipt.index,
      blockHash: toHex(receipt.certificate.blockHash),
    };
  } catch (err) {
    const dropped = await client.getTransaction({ hash: sent.hash }).catch(() => null);
    if (dropped?.status === "dropped")
      return { hash: sent.hash, status: "dropped", error: dropped.error };
    throw err;
  }
}
