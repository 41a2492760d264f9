/** `edgeledger status`'s options: a home, or the trust options (URL, chain id, genesis hash). */
import { type TrustArgs, trustOptions } from "../../options/trust.ts";
import type { CliOptions } from "../../util/command.ts";

export type StatusArgs = { home?: string } & TrustArgs;

export const statusOptions: CliOptions<StatusArgs> = {
  home: {
    flags: "--home <dir>",
    description:
      "a node home, or a dev network's (its validator-0); the API address and the genesis are read from it",
  },
  ...trustOptions,
};
