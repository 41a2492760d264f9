/** `edgeledger signer connection-key`: the connection key of a node or signer home, to pin on the other side. */
import type { CliCommand } from "../../../util/command.ts";
import { signerConnectionKeyHandler } from "./handler.ts";
import { type SignerConnectionKeyArgs, signerConnectionKeyOptions } from "./options.ts";

export const signerConnectionKey: CliCommand<SignerConnectionKeyArgs> = {
  command: "connection-key",
  describe: "print a home's connection key: a node's (for the signer's --allow) or a signer's",
  options: signerConnectionKeyOptions,
  handler: signerConnectionKeyHandler,
};
