/**
 * registerCommand: what a handler receives (keys of the record, defaults,
 * parsed values, absent options missing), what commander refuses before a
 * handler runs (a required option, a parser's refusal), and the tree
 * (subcommands in order, settings inherited from the parent).
 */
import { Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { port, url } from "../options/parsers.ts";
import { type CliCommand, type CliOptions, registerCommand } from "./command.ts";

interface ServeArgs {
  upstreams: string[];
  chainId: string;
  port: number;
  verbose: boolean;
  apiPort?: number;
}

const serveOptions: CliOptions<ServeArgs> = {
  upstreams: { flags: "--upstream <url...>", description: "upstreams", parse: url, required: true },
  chainId: { flags: "--chain-id <id>", description: "chain", required: true },
  port: { flags: "--port <port>", description: "port", parse: port, default: 8600 },
  verbose: { flags: "--verbose", description: "say more", default: false },
  apiPort: { flags: "--api-port <port>", description: "API port", parse: port },
};

/** A program with `commands` on it that throws instead of exiting, and what it wrote to stderr. */
function programWith(...commands: CliCommand[]) {
  let stderr = "";
  const program = new Command("edgeledger")
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined });
  for (const c of commands) registerCommand(program, c);
  return { program, stderr: () => stderr };
}

/** A `serve` command whose handler records what it got. */
function serve() {
  const calls: ServeArgs[] = [];
  const command: CliCommand<ServeArgs> = {
    command: "serve",
    describe: "serve",
    options: serveOptions,
    handler: (args) => {
      calls.push(args);
    },
  };
  return { command, calls };
}

describe("registerCommand", () => {
  it("hands the handler the record's keys: parsed, defaulted, and no key for an absent option", async () => {
    const { command, calls } = serve();
    const { program } = programWith(command);
    await program.parseAsync(
      ["serve", "--upstream", "http://a", "http://b", "--chain-id", "c", "--upstream", "http://d"],
      { from: "user" },
    );
    expect(calls).toEqual([
      { upstreams: ["http://a", "http://b", "http://d"], chainId: "c", port: 8600, verbose: false },
    ]);
    expect(Object.keys(calls[0]!)).not.toContain("apiPort");

    await program.parseAsync(
      [
        "serve",
        "--upstream",
        "http://a",
        "--chain-id",
        "c",
        "--port",
        "1",
        "--verbose",
        "--api-port",
        "2",
      ],
      { from: "user" },
    );
    expect(calls[1]).toEqual({
      upstreams: ["http://a"],
      chainId: "c",
      port: 1,
      verbose: true,
      apiPort: 2,
    });
  });

  it("refuses a missing required option and a value its parser refuses, before the handler runs", async () => {
    const { command, calls } = serve();
    const { program, stderr } = programWith(command);
    await expect(
      program.parseAsync(["serve", "--upstream", "http://a"], { from: "user" }),
    ).rejects.toBeInstanceOf(CommanderError);
    expect(stderr()).toContain("required option '--chain-id <id>' not specified");
    await expect(
      program.parseAsync(
        ["serve", "--upstream", "http://a", "--chain-id", "c", "--port", "70000"],
        {
          from: "user",
        },
      ),
    ).rejects.toMatchObject({ code: "commander.invalidArgument", exitCode: 1 });
    expect(stderr()).toContain(
      "option '--port <port>' argument '70000' is invalid. a port, 0-65535",
    );
    // showHelpAfterError, set on the program, reached the command.
    expect(stderr()).toContain("Usage: edgeledger serve [options]");
    expect(calls).toEqual([]);
  });

  it("registers subcommands in order under a group without a handler", async () => {
    const ran: string[] = [];
    const leaf = (name: string): CliCommand => ({
      command: name,
      describe: `the ${name} one`,
      handler: () => {
        ran.push(name);
      },
    });
    const { program } = programWith({
      command: "keys",
      describe: "keys",
      subcommands: [leaf("new"), leaf("show")],
    });
    const keys = program.commands.find((c) => c.name() === "keys")!;
    expect(keys.commands.map((c) => [c.name(), c.description()])).toEqual([
      ["new", "the new one"],
      ["show", "the show one"],
    ]);
    await program.parseAsync(["keys", "show"], { from: "user" });
    expect(ran).toEqual(["show"]);
    // The group alone prints its help and fails, as commander does for a command without an action.
    await expect(program.parseAsync(["keys"], { from: "user" })).rejects.toBeInstanceOf(
      CommanderError,
    );
    expect(ran).toEqual(["show"]);
  });
});

// What the type checker refuses (`npm run lint` fails if any of these compiles):
const _noDefault: CliOptions<{ chainId: string }> = {
  // @ts-expect-error a value the handler always gets needs `required` or a default
  chainId: { flags: "--chain-id <id>", description: "chain" },
};
const _noParser: CliOptions<{ port?: number }> = {
  // @ts-expect-error a number needs a parser (commander would hand the handler a string)
  port: { flags: "--port <port>", description: "port" },
};
// @ts-expect-error every option of the handler's has its spec
const _missing: CliOptions<{ home?: string }> = {};
void [_noDefault, _noParser, _missing];
