/** `edgeledger signer connection-key`'s options: a node home or a signer home. */
import type { CliOptions } from "../../../util/command.ts";

export interface SignerConnectionKeyArgs {
  home: string;
}

export const signerConnectionKeyOptions: CliOptions<SignerConnectionKeyArgs> = {
  home: { flags: "--home <dir>", description: "a node home or a signer home", required: true },
};
