/**
 * `edgeledger signer`: a remote signer holding a validator key (see
 * @edgeledger/node's signer/). Groups `init` (a signer home), `start` (run
 * it) and `connection-key` (print the key the other side pins); alone, it
 * prints its help.
 */
import type { CliCommand } from "../../util/command.ts";
import { signerConnectionKey } from "./connection-key/index.ts";
import { signerInit } from "./init/index.ts";
import { signerStart } from "./start/index.ts";

export const signer: CliCommand = {
  command: "signer",
  describe: "a remote signer holding a validator key, for validators that pin its key",
  subcommands: [signerInit, signerStart, signerConnectionKey],
};
