/** `edgeledger transfer`: a signed transfer, followed until final (verified) or dropped. */
import type { CliCommand } from "../../util/command.ts";
import { transferHandler } from "./handler.ts";
import { type TransferArgs, transferOptions } from "./options.ts";

export const transfer: CliCommand<TransferArgs> = {
  command: "transfer",
  describe:
    "sign a transfer with a key file, submit it and wait until it is final (receipt verified by the SDK) or dropped",
  options: transferOptions,
  handler: transferHandler,
};
