/** `edgeledger keys show`: the address and public key of a key file (never the secret). */
import { resolve } from "node:path";
import { paths, readKeyFile } from "@edgeledger/node";
import { addressFromPublicKey, formatAddress, toHex } from "@edgeledger/sdk/protocol";
import { InvalidArgumentError } from "commander";
import type { KeysShowArgs } from "./options.ts";

export function keysShowHandler(args: KeysShowArgs): void {
  const file = args.key ?? (args.home ? paths(resolve(args.home)).validatorKey : undefined);
  if (!file) throw new InvalidArgumentError("give --home or --key");
  const key = readKeyFile(file);
  console.log(
    `address ${formatAddress(addressFromPublicKey(key.publicKey))}\npublicKey ${toHex(key.publicKey)}`,
  );
}
