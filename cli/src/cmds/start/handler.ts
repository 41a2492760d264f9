/**
 * `edgeledger start`: one node (createNode from @edgeledger/node) in a
 * process, until SIGINT or SIGTERM, or until its launcher goes
 * (`watchLifeline`, watched from main.ts).
 */
import { resolve } from "node:path";
import { createNode, readKeyFile } from "@edgeledger/node";
import { addressFromPublicKey, formatAddress } from "@edgeledger/sdk/protocol";
import { untilSignal } from "../../util/untilSignal.ts";
import type { StartArgs } from "./options.ts";

/**
 * `edgeledger start`: one node until SIGINT or SIGTERM. With `devKey` (a key
 * file; dev chains only, see `isDevChainId`) it also serves
 * POST /v1/dev/transfer.
 */
export async function startHandler(args: StartArgs): Promise<void> {
  const devKey = args.devKey !== undefined ? readKeyFile(resolve(args.devKey)) : undefined;
  const signer =
    args.signerAddress !== undefined || args.signerPublicKey !== undefined
      ? { address: args.signerAddress ?? "", publicKey: args.signerPublicKey ?? "" }
      : undefined;
  const node = createNode(resolve(args.home), {
    ...(devKey && { devKey }),
    ...(args.haltHeight !== undefined && { haltHeight: args.haltHeight }),
    ...(signer && { signer }),
    ...(args.explorer && { explorer: true }),
  });
  const { apiUrl } = await node.start();
  const explorerNote = node.config.explorer ? `; explorer ${apiUrl}/explorer/` : "";
  const devNote = devKey
    ? `; dev account ${formatAddress(addressFromPublicKey(devKey.publicKey))} on POST ${apiUrl}/v1/dev/transfer`
    : "";
  // The pid lets whoever reads a log (`edgeledger dev` writes one per validator) find the process.
  console.log(
    `edgeledger node (pid ${process.pid}) on chain "${node.chain.chainId}" at height ${node.chain.head.height}; API ${apiUrl}${devNote}${explorerNote}`,
  );
  await untilSignal();
  await node.stop();
  console.log(`edgeledger node (pid ${process.pid}) stopped at height ${node.chain.head.height}`);
}
