/**
 * Every `edgeledger` command, in the order `--help` lists them. A new
 * command is a folder beside these (index.ts, options.ts, handler.ts) and a
 * line here.
 */
import type { CliCommand } from "../util/command.ts";
import { compact } from "./compact/index.ts";
import { dev } from "./dev/index.ts";
import { edge } from "./edge/index.ts";
import { init } from "./init/index.ts";
import { keys } from "./keys/index.ts";
import { signer } from "./signer/index.ts";
import { snapshot } from "./snapshot/index.ts";
import { start } from "./start/index.ts";
import { status } from "./status/index.ts";
import { testnet } from "./testnet/index.ts";
import { transfer } from "./transfer/index.ts";

export const cmds: readonly CliCommand[] = [
  init,
  keys,
  start,
  signer,
  dev,
  edge,
  testnet,
  status,
  transfer,
  compact,
  snapshot,
];
