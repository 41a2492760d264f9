/** `edgeledger init`'s options: the home to create, its chain id, and its API port. */
import type { InitOptions } from "@edgeledger/node/homes";
import { port, upgrade } from "../../options/parsers.ts";
import type { CliOptions } from "../../util/command.ts";

export type InitArgs = Pick<InitOptions, "home" | "chainId" | "apiPort" | "upgrades">;

export const initOptions: CliOptions<InitArgs> = {
  home: { flags: "--home <dir>", description: "the node's home folder", required: true },
  chainId: { flags: "--chain-id <id>", description: "chain id: a-z, 0-9, '-'", required: true },
  apiPort: { flags: "--api-port <port>", description: "API port", parse: port },
  upgrades: {
    flags: "--upgrade <height:version>",
    description: "blocks from HEIGHT carry protocol VERSION (repeatable; genesis upgrades)",
    parse: upgrade,
  },
};
