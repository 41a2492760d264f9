/**
 * `edgeledger signer`: a remote signer holding a validator key (see
 * @edgeledger/node's signer/); `signer init` writes its home and
 * `signer connection-key` prints the key a validator or signer pins.
 */
import type { CliCommand } from "../../util/command.ts";
import { signerConnectionKey } from "./connection-key/index.ts";
import { signerHandler } from "./handler.ts";
import { signerInit } from "./init/index.ts";
import { type SignerArgs, signerOptions } from "./options.ts";

export const signer: CliCommand<SignerArgs> = {
  command: "signer",
  describe: "run a remote signer holding a validator key, for validators that pin its key",
  options: signerOptions,
  handler: signerHandler,
  subcommands: [signerInit, signerConnectionKey],
};
