/**
 * The trust options of the commands that read a node through the SDK
 * (status, transfer): a node's URL, and the chain id and genesis hash to
 * verify its answers against; each command adds its own --home, the other
 * way to name both (see util/client.ts's `clientFor`).
 */

import type { ClientTarget } from "../util/client.ts";
import type { CliOptions } from "../util/command.ts";
import { hash32 } from "./parsers.ts";

export type TrustArgs = Pick<ClientTarget, "url" | "chainId" | "genesisHash">;

export const trustOptions: CliOptions<TrustArgs> = {
  url: {
    flags: "--url <url>",
    description: "a node API URL (with --chain-id and --genesis-hash, or --home)",
  },
  chainId: { flags: "--chain-id <id>", description: "with --url: the chain to expect" },
  genesisHash: {
    flags: "--genesis-hash <hex>",
    description:
      "with --url: the genesis hash to verify answers against (from your own node, never the server)",
    parse: hash32,
  },
};
