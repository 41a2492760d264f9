/** `edgeledger testnet`: the homes of a network, written once, each started with `start`. */
import type { CliCommand } from "../../util/command.ts";
import { testnetHandler } from "./handler.ts";
import { type TestnetArgs, testnetOptions } from "./options.ts";

export const testnet: CliCommand<TestnetArgs> = {
  command: "testnet",
  describe: "write the homes of an N-validator network (keys, peer ids, genesis, configs)",
  options: testnetOptions,
  handler: testnetHandler,
};
