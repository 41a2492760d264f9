/**
 * The README's "Running a node" commands, as a reader runs them: each line
 * `npm run edgeledger -- …` of that block, in order, through npm from the
 * repository root (so through the same script and the same build a user
 * gets), with the homes moved into a temporary folder and the API ports of
 * the started nodes moved to free ones (so the suite can run beside other
 * tests). `start` runs until the next command has used it; `dev` and `edge`
 * run for good and are covered by local-network.test.ts and the edge
 * scenarios.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, sleep } from "@edgeledger/node/testing";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "readme-"));
const running: ChildProcess[] = [];
/**
 * npm runs the CLI as a grandchild (npm → sh → node): a started node is
 * stopped by killing its whole process group, or it would outlive the test.
 * The group also goes if this process exits without reaching afterAll.
 */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
process.once("exit", () => running.forEach(killGroup));
afterAll(async () => {
  for (const child of running) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once("exit", r));
    killGroup(child);
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The `npm run edgeledger -- …` lines of the README block under "## Running a node". */
function readmeCommands(): string[][] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.split("## Running a node")[1]!;
  const block = section.split("```sh")[1]!.split("```")[0]!;
  return block
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line.startsWith("npm run edgeledger -- "))
    .map((line) => line.slice("npm run edgeledger -- ".length).split(/\s+/))
    .map((args) => args.map((a) => (a.startsWith("./") ? join(dir, a.slice(2)) : a)));
}

function npm(args: string[]): ChildProcess {
  return spawn("npm", ["run", "--silent", "edgeledger", "--", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so killGroup reaches the node under npm.
    detached: true,
  });
}

async function run(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = npm(args);
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  return { code, output };
}

/**
 * Moves a home's API to a free port, and its p2p listener to any port,
 * before it starts: the README's defaults (8545; testnet's 9100 and up) may
 * be taken by tests running beside this one.
 */
async function freeApiPort(home: string): Promise<number> {
  const file = join(home, "config.json");
  const config = JSON.parse(readFileSync(file, "utf8")) as {
    api: { port: number };
    network: { listen: string[] };
  };
  config.api.port = await freePort();
  config.network.listen = ["/ip4/127.0.0.1/tcp/0"];
  writeFileSync(file, JSON.stringify(config, null, 2));
  return config.api.port;
}

describe("README: Running a node", () => {
  it("every command works, in the order the README gives them", async () => {
    const commands = readmeCommands();
    expect(commands.map((c) => c[0])).toEqual(
      expect.arrayContaining(["init", "keys", "start", "status", "testnet", "dev", "edge"]),
    );
    for (const args of commands) {
      const name = args[0]!;
      if (name === "dev" || name === "edge") continue;
      if (name === "start") {
        const home = args[args.indexOf("--home") + 1]!;
        const port = await freeApiPort(home);
        const child = npm(args);
        running.push(child);
        const deadline = Date.now() + 30_000;
        let up = false;
        while (!up && Date.now() < deadline && child.exitCode === null) {
          up = await fetch(`http://127.0.0.1:${port}/v1/status`).then(
            (r) => r.ok,
            () => false,
          );
          if (!up) await sleep(200);
        }
        expect(up, `start ${args.join(" ")} serves its API`).toBe(true);
        continue;
      }
      const { code, output } = await run(args);
      expect(code, `${args.join(" ")}\n${output}`).toBe(0);
      if (name === "status") expect(output).toMatch(/height/i);
    }
  }, 120_000);
});
