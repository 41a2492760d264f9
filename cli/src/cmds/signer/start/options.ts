/** `edgeledger signer start`'s options: its home, and for tests or a one-off run the listen address. */
import type { CliOptions } from "../../../util/command.ts";

export interface SignerStartArgs {
  home: string;
  /** host:port, replacing signer.json's `listen`. */
  listen?: string;
}

export const signerStartOptions: CliOptions<SignerStartArgs> = {
  home: {
    flags: "--home <dir>",
    description: "the signer's home folder (signer init)",
    required: true,
  },
  listen: {
    flags: "--listen <host:port>",
    description: "listen here instead of signer.json's listen",
  },
};
