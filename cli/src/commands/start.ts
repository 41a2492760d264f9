/**
 * `edgeledger start`: one node (createNode from @edgeledger/node) in a
 * process, until SIGINT or SIGTERM, or until its launcher goes (lifeline.ts,
 * watched from main.ts).
 */
import { resolve } from "node:path";
import { createNode, readKeyFile } from "@edgeledger/node";
import { addressFromPublicKey, formatAddress } from "@edgeledger/sdk/protocol";

/**
 * `edgeledger start`: one node until SIGINT or SIGTERM. With `devKeyFile`
 * (dev chains only, see `isDevChainId`) it also serves POST /v1/dev/transfer.
 */
export async function start(home: string, opts: { devKeyFile?: string } = {}): Promise<void> {
  const devKey = opts.devKeyFile !== undefined ? readKeyFile(resolve(opts.devKeyFile)) : undefined;
  const node = createNode(resolve(home), devKey ? { devKey } : {});
  const { apiUrl } = await node.start();
  const devNote = devKey
    ? `; dev account ${formatAddress(addressFromPublicKey(devKey.publicKey))} on POST ${apiUrl}/v1/dev/transfer`
    : "";
  // The pid lets whoever reads a log (`edgeledger dev` writes one per validator) find the process.
  console.log(
    `edgeledger node (pid ${process.pid}) on chain "${node.chain.chainId}" at height ${node.chain.head.height}; API ${apiUrl}${devNote}`,
  );
  await untilSignal();
  await node.stop();
  console.log(`edgeledger node (pid ${process.pid}) stopped at height ${node.chain.head.height}`);
}

export function untilSignal(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
