/** `edgeledger signer init`: a new signer home holding a validator key. */
import type { CliCommand } from "../../../util/command.ts";
import { signerInitHandler } from "./handler.ts";
import { type SignerInitArgs, signerInitOptions } from "./options.ts";

export const signerInit: CliCommand<SignerInitArgs> = {
  command: "init",
  describe:
    "write a signer home: the validator key (copied from a file), a connection key, signer.json",
  options: signerInitOptions,
  handler: signerInitHandler,
};
