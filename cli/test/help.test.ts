/**
 * `edgeledger` as a user meets it, spawned on this Node: `--help` lists
 * exactly the commands of cmds/ (and commander's `help`), in order, and a
 * bad option value is refused before anything runs, with the option, the
 * value and what was expected, the command's help, and exit code 1.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const CLI = resolve(import.meta.dirname, "../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "edgeledger-help-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function edgeledger(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });
}

/** The command names of a `--help`'s "Commands:" section. */
function commandsIn(help: string): string[] {
  const section = help.split("\nCommands:\n")[1] ?? "";
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!);
}

describe("edgeledger --help and bad options", () => {
  it("lists exactly the commands, and keys' and signer's subcommands", () => {
    const run = edgeledger("--help");
    expect(run.status).toBe(0);
    expect(commandsIn(run.stdout)).toEqual([
      "init",
      "keys",
      "start",
      "signer",
      "dev",
      "edge",
      "testnet",
      "status",
      "transfer",
      "compact",
      "snapshot",
      "help",
    ]);
    const keys = edgeledger("keys", "--help");
    expect(keys.status).toBe(0);
    expect(commandsIn(keys.stdout)).toEqual(["new", "show", "help"]);
    const signer = edgeledger("signer", "--help");
    expect(signer.status).toBe(0);
    expect(commandsIn(signer.stdout)).toEqual(["init", "start", "connection-key", "help"]);
    const snapshot = edgeledger("snapshot", "--help");
    expect(snapshot.status).toBe(0);
    expect(commandsIn(snapshot.stdout)).toEqual(["export", "import", "help"]);
  });

  it.each([
    {
      args: ["testnet", "--validators", "0", "--out", join(dir, "net")],
      error: "option '--validators <n>' argument '0' is invalid. a whole number, 1-64",
    },
    {
      args: ["edge", "--upstream", "http://127.0.0.1:1", "--chain-id", "c", "--genesis-hash", "ab"],
      error: "option '--genesis-hash <hex>' argument 'ab' is invalid. 32 bytes of lowercase hex",
    },
    {
      args: ["transfer", "--key", "k.json", "--to", "el1x", "--amount", "-5"],
      error: "option '--amount <n>' argument '-5' is invalid. a positive whole number",
    },
    {
      args: ["init", "--home", join(dir, "home"), "--chain-id", "c", "--api-port", "65536"],
      error: "option '--api-port <port>' argument '65536' is invalid. a port, 0-65535",
    },
  ])("refuses $args.0 $args.1 …: $error", ({ args, error }) => {
    const run = edgeledger(...args);
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error: ${error}`);
    expect(run.stderr).toContain(`Usage: edgeledger ${args[0]} [options]`);
    expect(run.stdout).toBe("");
    // Refused before the command ran: nothing written.
    expect(existsSync(join(dir, "net"))).toBe(false);
    expect(existsSync(join(dir, "home"))).toBe(false);
  });
});
