/**
 * `edgeledger transfer`'s options: the sender's key, the recipient and the
 * amount; a home, or the trust options (URL, chain id, genesis hash).
 */
import { amount } from "../../options/parsers.ts";
import { type TrustArgs, trustOptions } from "../../options/trust.ts";
import type { CliOptions } from "../../util/command.ts";

export type TransferArgs = { key: string; to: string; amount: bigint; home?: string } & TrustArgs;

export const transferOptions: CliOptions<TransferArgs> = {
  key: { flags: "--key <file>", description: "the sender's key file", required: true },
  to: { flags: "--to <address>", description: "recipient (el1…)", required: true },
  amount: { flags: "--amount <n>", description: "amount", parse: amount, required: true },
  home: {
    flags: "--home <dir>",
    description: "a node home, or a dev network's (for its API address and genesis)",
  },
  ...trustOptions,
};
