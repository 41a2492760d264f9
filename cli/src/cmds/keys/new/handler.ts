/** `edgeledger keys new`: a fresh Ed25519 key, written (0600) and described. */
import { resolve } from "node:path";
import { writeKeyFile } from "@edgeledger/node";
import { addressFromPublicKey, formatAddress, SecretKey, toHex } from "@edgeledger/sdk/protocol";
import type { KeysNewArgs } from "./options.ts";

export function keysNewHandler(args: KeysNewArgs): void {
  const key = SecretKey.generate();
  writeKeyFile(resolve(args.out), key);
  console.log(
    `address ${formatAddress(addressFromPublicKey(key.publicKey))}\npublicKey ${toHex(key.publicKey)}\nwritten to ${args.out}`,
  );
}
