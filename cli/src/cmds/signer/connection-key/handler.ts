/** Prints the public half of a home's connection key (a node's node_key.json, a signer's connection_key.json). */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { connectionKeyOf, paths, signerPaths } from "@edgeledger/node";
import type { SignerConnectionKeyArgs } from "./options.ts";

export async function signerConnectionKeyHandler(args: SignerConnectionKeyArgs): Promise<void> {
  const home = resolve(args.home);
  const signerKey = signerPaths(home).connectionKey;
  console.log(await connectionKeyOf(existsSync(signerKey) ? signerKey : paths(home).nodeKey));
}
