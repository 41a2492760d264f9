/** `edgeledger signer start`: the signer of --home in this process until Ctrl-C. */
import type { CliCommand } from "../../../util/command.ts";
import { signerStartHandler } from "./handler.ts";
import { type SignerStartArgs, signerStartOptions } from "./options.ts";

export const signerStart: CliCommand<SignerStartArgs> = {
  command: "start",
  describe: "run the signer in --home until Ctrl-C, serving the validators it lists",
  options: signerStartOptions,
  handler: signerStartHandler,
};
