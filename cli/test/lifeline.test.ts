/**
 * `edgeledger dev` killed with SIGKILL (no handler runs, no cleanup): every
 * child it started notices its lifeline close and exits, so the ports are
 * free again. And a port already taken stops the next `dev` before it
 * starts anything, naming the process that holds it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePortBase, sleep } from "@edgeledger/node/testing";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_EDGE_PORT_OFFSET } from "../src/dev/network.ts";
import { canListen } from "../src/dev/ports.ts";

const CLI = resolve(import.meta.dirname, "../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "edgeledger-lifeline-"));
const spawned: ChildProcess[] = [];
const pidsSeen = new Set<number>();

afterAll(() => {
  // Whatever a failed run left: the launchers, then every child they named.
  for (const c of spawned) if (c.exitCode === null) c.kill("SIGKILL");
  for (const pid of pidsSeen) if (alive(pid)) process.kill(pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function launch(home: string, apiPort: number) {
  const child = spawn(
    process.execPath,
    [CLI, "dev", "--home", home, "--validators", "1", "--api-port", String(apiPort)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  spawned.push(child);
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return { child, output: () => output, exited };
}

/** Alive and not a zombie waiting for a parent that is gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** The pid a process wrote in its log (`start` and `edge` both print "(pid N)"). */
function pidIn(log: string): number | null {
  const m = existsSync(log) ? /\(pid (\d+)\)/.exec(readFileSync(log, "utf8")) : null;
  return m ? Number(m[1]) : null;
}

async function until(what: string, ms: number, ok: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms / 1000} s: ${what}`);
    await sleep(100);
  }
}

describe("edgeledger dev's children die with it", () => {
  it("kill -9 of the launcher leaves no child and no port held; a held port is named before anything starts", async () => {
    const home = join(dir, "dev");
    const apiPort = await freePortBase(1);
    const ports = [apiPort, apiPort + 100, apiPort + DEV_EDGE_PORT_OFFSET];
    const first = launch(home, apiPort);
    await until("the banner", 90_000, () => {
      if (first.child.exitCode !== null) throw new Error(`dev exited:\n${first.output()}`);
      return first.output().includes("Ctrl-C stops");
    });
    const children = [pidIn(join(home, "validator-0", "node.log")), pidIn(join(home, "edge.log"))];
    expect(
      children.every((p) => p !== null),
      first.output(),
    ).toBe(true);
    for (const pid of children) pidsSeen.add(pid!);
    expect(children.every((pid) => alive(pid!))).toBe(true);

    first.child.kill("SIGKILL");
    await first.exited;
    await until("every child gone", 30_000, () => children.every((pid) => !alive(pid!)));
    await until("every port free", 30_000, async () =>
      (await Promise.all(ports.map((p) => canListen("127.0.0.1", p)))).every(Boolean),
    );

    // Someone else (this test) takes the edge's port: the next run says who, and starts nothing.
    const holder: Server = createServer();
    await new Promise<void>((done) => holder.listen(ports[2], "127.0.0.1", done));
    try {
      const second = launch(home, apiPort);
      expect(await second.exited).toBe(1);
      expect(second.output()).toContain("DEV_PORT_IN_USE");
      expect(second.output()).toContain(
        `127.0.0.1:${ports[2]} (edge API) is held by pid ${process.pid}`,
      );
      expect(second.output()).not.toContain("Ctrl-C stops");
      expect(pidIn(join(home, "validator-0", "node.log"))).toBe(children[0]);
    } finally {
      await new Promise((done) => holder.close(done));
    }
  }, 180_000);
});
