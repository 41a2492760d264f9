/** `edgeledger signer init`: writes the home, prints the connection key validators pin. */
import { resolve } from "node:path";
import { initSignerHome } from "@edgeledger/node";
import type { SignerInitArgs } from "./options.ts";

export async function signerInitHandler(args: SignerInitArgs): Promise<void> {
  const { connectionKey } = await initSignerHome(resolve(args.home), {
    chainId: args.chainId,
    listen: args.listen,
    allowedValidators: args.allow,
    validatorKeyFile: resolve(args.validatorKey),
  });
  console.log(
    `signer home ${resolve(args.home)} written; its connection key (the validators' signer.publicKey):\n${connectionKey}\nDelete ${resolve(args.validatorKey)} from the node's home: a node with a remote signer refuses to start while it holds a key.`,
  );
}
