/**
 * `init` and `testnet` write a genesis upgrade schedule (`--upgrade
 * HEIGHT:VERSION`, repeatable), spawned as a user runs them: the schedule
 * lands in every home's genesis.json as the node will read it, and one the
 * genesis parser refuses leaves no home behind (a half-written home would
 * make the next `init` say "already holds a node").
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const CLI = resolve(import.meta.dirname, "../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "edgeledger-upgrades-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function edgeledger(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });
}

const genesisOf = (home: string) =>
  JSON.parse(readFileSync(join(home, "genesis.json"), "utf8")) as { upgrades?: unknown };

describe("--upgrade on init and testnet", () => {
  it("testnet writes the schedule into every home's genesis", () => {
    const out = join(dir, "net");
    const run = edgeledger(
      "testnet",
      ...["--validators", "2", "--full-nodes", "1", "--out", out],
      ...["--upgrade", "10:2"],
    );
    expect(run.status, run.stderr).toBe(0);
    const schedule = [{ height: 10, version: 2 }];
    for (const home of ["validator-0", "validator-1", "full-0"])
      expect(genesisOf(join(out, home)).upgrades).toEqual(schedule);
  });

  it("init writes it too, and without --upgrade the genesis has no upgrades entry", () => {
    const a = join(dir, "a");
    expect(edgeledger("init", "--home", a, "--chain-id", "c", "--upgrade", "5:2").status).toBe(0);
    expect(genesisOf(a).upgrades).toEqual([{ height: 5, version: 2 }]);
    const b = join(dir, "b");
    expect(edgeledger("init", "--home", b, "--chain-id", "c").status).toBe(0);
    expect(genesisOf(b)).not.toHaveProperty("upgrades");
  });

  const commands = [
    ["init", "--home", join(dir, "bad-home"), "--chain-id", "c"],
    ["testnet", "--validators", "2", "--out", join(dir, "bad-net")],
  ];
  it.each(
    commands.flatMap((command) => [
      { command, upgrades: ["20:2", "10:3"], error: "increasing height and version" },
      { command, upgrades: ["10:3"], error: "this build knows up to 2" },
    ]),
  )("$command.0 refuses --upgrade $upgrades ($error), and writes nothing", (c) => {
    const run = edgeledger(...c.command, ...c.upgrades.flatMap((u) => ["--upgrade", u]));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("CONFIG_INVALID");
    expect(run.stderr).toContain(c.error);
    expect(existsSync(join(dir, "bad-home"))).toBe(false);
    expect(existsSync(join(dir, "bad-net"))).toBe(false);
  });

  it("refuses a value that is not HEIGHT:VERSION before anything runs", () => {
    const run = edgeledger("init", "--home", join(dir, "x"), "--chain-id", "c", "--upgrade", "10");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      "option '--upgrade <height:version>' argument '10' is invalid. HEIGHT:VERSION",
    );
    expect(existsSync(join(dir, "x"))).toBe(false);
  });
});
