/**
 * What a CLI command is (lodestar's `CliCommand`, on commander instead of
 * yargs): a name, a description, a typed record of its options, a handler
 * and subcommands. `registerCommand` is the one place that turns such a
 * tree into commander calls, so a command's folder (cmds/<cmd>/) holds only
 * data and what it does.
 *
 * A record key names what the handler receives and the flags name what the
 * user types, so the two may differ (`upstreams` ← `--upstream <url...>`).
 * The handler gets only the options that have a value: an absent optional
 * option is a missing key, never `undefined`, which is what the libraries
 * below take (exactOptionalPropertyTypes).
 */
import type { Command } from "commander";

/**
 * One option. Method syntax (`parse(…)`) on purpose: a command's spec of a
 * `string[]` option must still fit a list of commands of any options.
 */
export interface OptionSpec<T> {
  /** commander's flags: `--home <dir>`, `--upstream <url...>` (repeatable), `--trust-proxy-headers`. */
  flags: string;
  /** The help text, as `--help` prints it. */
  description: string;
  /** The value from one occurrence and the one so far (the default, or an earlier occurrence's); refuses with InvalidArgumentError. */
  parse?(value: string, previous: T | undefined): T;
  default?: T;
  /** commander refuses the command without it (a "required option"). */
  required?: boolean;
}

/** A value that is not a string or a flag cannot come from the command line without a parser. */
type Parsed<T> = [T] extends [string | boolean]
  ? unknown
  : { parse(value: string, previous: T | undefined): T };

/**
 * The options of a command whose handler takes `Args`: one spec per key.
 * A key the handler may lack is optional (no default, not required); one it
 * always gets is required or has a default, so the handler's type is true.
 */
export type CliOptions<Args> = Required<{
  [K in keyof Args]: undefined extends Args[K]
    ? OptionSpec<Exclude<Args[K], undefined>> &
        Parsed<Exclude<Args[K], undefined>> & { required?: false; default?: never }
    : OptionSpec<Args[K]> & Parsed<Args[K]> & ({ required: true } | { default: Args[K] });
}>;

/** A command, its options typed by what its handler takes; `CliCommand` (no argument) is any command. */
export interface CliCommand<Args extends object = object> {
  /** Its name, as typed after `edgeledger`. */
  command: string;
  /** The one-line help, as `--help` prints it. */
  describe: string;
  options?: CliOptions<Args>;
  /** Without one, the command only groups its subcommands (commander prints its help). */
  handler?(args: Args): void | Promise<void>;
  subcommands?: readonly CliCommand[];
}

/**
 * Adds `cmd` and its subcommands to `parent`, in the order given (the
 * order `--help` lists them). Through `parent.command()`, so each inherits
 * the parent's settings (showHelpAfterError).
 */
export function registerCommand(parent: Command, cmd: CliCommand): Command {
  const command = parent.command(cmd.command).description(cmd.describe);
  // The record's type was checked where the command is defined; here it is only walked.
  const specs = Object.entries(cmd.options ?? {}) as [string, OptionSpec<unknown>][];
  const attributes = specs.map(([key, spec]) => {
    const option = command.createOption(spec.flags, spec.description);
    if (spec.required) option.makeOptionMandatory();
    if (spec.default !== undefined) option.default(spec.default);
    if (spec.parse) option.argParser(spec.parse);
    command.addOption(option);
    return { key, attribute: option.attributeName() };
  });
  for (const sub of cmd.subcommands ?? []) registerCommand(command, sub);
  if (cmd.handler) {
    command.action(() => {
      const values: Record<string, unknown> = command.opts();
      const args: Record<string, unknown> = {};
      for (const { key, attribute } of attributes)
        if (values[attribute] !== undefined) args[key] = values[attribute];
      return cmd.handler?.(args);
    });
  }
  return command;
}
