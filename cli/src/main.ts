#!/usr/bin/env node
import { watchLifeline } from "@edgeledger/sdk/node";
/**
 * `edgeledger`: the operator's CLI (@edgeledger/cli). This file only wires:
 * it registers the commands of cmds/ on commander (util/command.ts), runs
 * the one asked for, and prints an error as `code: message` with exit code
 * 1. It sits above @edgeledger/node, @edgeledger/edge and the SDK, the only
 * package that knows all three.
 */
import { BaseError } from "@edgeledger/sdk/protocol";
import { Command } from "commander";
import { cmds } from "./cmds/index.ts";
import { registerCommand } from "./util/command.ts";

// Started by `edgeledger dev`: stop when it goes, however it goes.
watchLifeline();

const program = new Command("edgeledger").description("edgeledger full node").showHelpAfterError();
for (const cmd of cmds) registerCommand(program, cmd);

try {
  await program.parseAsync();
} catch (err) {
  const e =
    err instanceof BaseError
      ? `${err.code}: ${err.shortMessage}`
      : err instanceof Error
        ? err.message
        : String(err);
  console.error(`edgeledger: ${e}`);
  process.exitCode = 1;
}
