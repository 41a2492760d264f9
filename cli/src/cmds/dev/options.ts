/** `edgeledger dev`'s options: the network's home, and its size and ports when creating it. */
import { DEV_DEFAULTS, type DevOptions } from "../../dev/network.ts";
import { count, port } from "../../options/parsers.ts";
import type { CliOptions } from "../../util/command.ts";

export type DevArgs = DevOptions;

export const devOptions: CliOptions<DevArgs> = {
  home: {
    flags: "--home <dir>",
    description: "where the network lives",
    default: ".edgeledger/dev",
  },
  validators: {
    flags: "--validators <n>",
    description: `how many validators, when creating the network (default ${DEV_DEFAULTS.validators})`,
    parse: count(1, 64),
  },
  apiPort: {
    flags: "--api-port <port>",
    description: `first API port, when creating the network: validator i serves port + i, p2p on port + 100 + i (default ${DEV_DEFAULTS.apiPort})`,
    parse: port,
  },
};
