/**
 * `edgeledger start`'s options: the node's home, on dev chains the key that
 * funds /v1/dev/transfer, and a halt height for a coordinated upgrade.
 */
import { DEV_CHAIN_ID } from "@edgeledger/node";
import { whole } from "../../options/parsers.ts";
import type { CliOptions } from "../../util/command.ts";

export interface StartArgs {
  home: string;
  /** A key file; dev chains only (see `isDevChainId`). */
  devKey?: string;
  /** Replaces config.json's haltHeight for this run (0: none). */
  haltHeight?: number;
  /** A remote signer's host:port and connection key (config.json's signer, replaced). */
  signerAddress?: string;
  signerPublicKey?: string;
  /** Serve the explorer web app at /explorer (config.json's `explorer`, set for this run). */
  explorer?: boolean;
}

export const startOptions: CliOptions<StartArgs> = {
  home: { flags: "--home <dir>", description: "the node's home folder", required: true },
  devKey: {
    flags: "--dev-key <file>",
    description: `dev chains only (chain id "${DEV_CHAIN_ID}" or "${DEV_CHAIN_ID}-…"): serve POST /v1/dev/transfer, signing from this funded key`,
  },
  haltHeight: {
    flags: "--halt-height <height>",
    description:
      "commit this height, then stop proposing and voting and keep serving reads (health: halted); 0: none; replaces config.json's haltHeight for this run",
    parse: whole,
  },
  signerAddress: {
    flags: "--signer-address <host:port>",
    description:
      "sign through the remote signer there (`edgeledger signer start`); the home then holds no key",
  },
  signerPublicKey: {
    flags: "--signer-public-key <hex>",
    description:
      "the remote signer's connection key, the only one accepted (with --signer-address)",
  },
  explorer: {
    flags: "--explorer",
    description:
      "serve the explorer web app at <API URL>/explorer/, which verifies every answer in the browser (config.json's explorer, for this run)",
  },
};
