/** `edgeledger signer init`'s options. */
import { InvalidArgumentError } from "commander";
import type { CliOptions } from "../../../util/command.ts";

export interface SignerInitArgs {
  home: string;
  chainId: string;
  validatorKey: string;
  listen: string;
  allow: string[];
}

const connectionKey = (v: string, previous: string[] = []): string[] => {
  if (!/^[0-9a-f]{64}$/.test(v))
    throw new InvalidArgumentError("a connection key: 64 lowercase hex characters");
  return [...previous, v];
};

export const signerInitOptions: CliOptions<SignerInitArgs> = {
  home: { flags: "--home <dir>", description: "the signer's new home folder", required: true },
  chainId: { flags: "--chain-id <id>", description: "the chain it signs for", required: true },
  validatorKey: {
    flags: "--validator-key <file>",
    description: "the validator key file to hold (delete it from the node's home afterwards)",
    required: true,
  },
  listen: {
    flags: "--listen <host:port>",
    description: "where validators connect",
    default: "127.0.0.1:26659",
  },
  allow: {
    flags: "--allow <hex...>",
    description:
      "a validator's connection key (`edgeledger signer connection-key --home <node home>`); repeat for a standby",
    parse: connectionKey,
    default: [],
  },
};
