/**
 * A launcher that dies without cleaning up (a bench that throws, a vitest
 * killed with SIGKILL) takes the nodes the harness started with it: each
 * watches its stdin lifeline and stops when the kernel closes it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const HARNESS = resolve(import.meta.dirname, "../src/testing/harness.ts");
const dir = mkdtempSync(join(tmpdir(), "edgeledger-harness-lifeline-"));
const pids: number[] = [];
let launcher: ChildProcess | null = null;

afterAll(() => {
  launcher?.kill("SIGKILL");
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("the test harness", () => {
  it("leaves no node running when its launcher is killed with SIGKILL", async () => {
    const script = join(dir, "launcher.ts");
    writeFileSync(
      script,
      `import { makeHome, startNode } from ${JSON.stringify(HARNESS)};
const home = await makeHome("lifeline-chain", 1000n);
const child = await startNode(home);
console.log("node pid", child.pid);
setInterval(() => undefined, 1000);
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    launcher = child;
    const pid = await new Promise<number>((done, fail) => {
      let out = "";
      child.stdout?.on("data", (d) => {
        out += d;
        const m = /node pid (\d+)/.exec(out);
        if (m) done(Number(m[1]));
      });
      child.once("exit", (code) => fail(new Error(`launcher exited (${code}): ${out}`)));
    });
    pids.push(pid);
    expect(alive(pid)).toBe(true);
    child.kill("SIGKILL");
    const deadline = Date.now() + 20_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
  });
});
