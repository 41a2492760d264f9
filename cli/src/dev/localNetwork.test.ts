/**
 * The launcher with stand-in processes (small `node -e` scripts that signal
 * readiness with a file): readiness, clean stop, SIGKILL for a process that
 * ignores SIGTERM, a process that dies reported with its last output, and
 * `run`'s whole lifetime (stopped through its AbortSignal here; the real
 * Ctrl-C is in test/local-network.test.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { LocalNetwork, LocalNetworkError, type LocalProcessSpec } from "./localNetwork.ts";

const dir = mkdtempSync(join(tmpdir(), "edgeledger-launcher-"));
const started: LocalNetwork[] = [];
afterAll(async () => {
  await Promise.all(started.map((n) => n.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** A process that says hello, does as `behaviour` says (handlers first), then marks itself ready. */
function stand(name: string, behaviour: string): LocalProcessSpec & { readyFile: string } {
  const readyFile = join(dir, `${name}.ready`);
  const script = `
    const fs = require("node:fs");
    console.log("hello from ${name}");
    console.error("a warning from ${name}");
    setInterval(() => {}, 1000);
    ${behaviour}
    fs.writeFileSync(process.argv[1], "");
  `;
  return {
    name,
    url: `test://${name}`,
    command: process.execPath,
    args: ["-e", script, readyFile],
    logFile: join(dir, `${name}.log`),
    ready: async () => existsSync(readyFile),
    readyFile,
  };
}

const stopsOnTerm = `process.on("SIGTERM", () => { console.log("stopping"); process.exit(0); });`;

async function launch(specs: LocalProcessSpec[], stopTimeoutMs = 5000): Promise<LocalNetwork> {
  const net = await LocalNetwork.start(specs, { stopTimeoutMs, readyTimeoutMs: 20_000 });
  started.push(net);
  return net;
}

describe("LocalNetwork", () => {
  it("starts every process, logs each to its file, and stops them with SIGTERM", async () => {
    const specs = [stand("a", stopsOnTerm), stand("b", stopsOnTerm)];
    const net = await launch(specs);
    expect(net.processes.map((p) => p.name)).toEqual(["a", "b"]);
    await net.stop();
    for (const s of specs) {
      const log = readFileSync(s.logFile, "utf8");
      expect(log).toContain(`hello from ${s.name}`);
      expect(log).toContain(`a warning from ${s.name}`);
      expect(log).toContain("stopping");
    }
  });

  it("kills a process that ignores SIGTERM once the grace period is over", async () => {
    const stubborn = stand("stubborn", `process.on("SIGTERM", () => console.log("not stopping"));`);
    const net = await launch([stubborn], 300);
    const t0 = Date.now();
    await net.stop();
    // Stopped only by the SIGKILL that follows the grace period (timers may fire a ms early).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(readFileSync(stubborn.logFile, "utf8")).toContain("not stopping");
  });

  it("reports a process that exits on its own with its last output", async () => {
    const steady = stand("steady", stopsOnTerm);
    const crasher = stand(
      "crasher",
      `setInterval(() => {
         if (fs.existsSync(process.argv[1] + ".crash")) { console.log("last words"); process.exit(3); }
       }, 20);`,
    );
    const net = await launch([steady, crasher]);
    writeFileSync(`${crasher.readyFile}.crash`, "");
    const err = await net.died();
    expect(err).toBeInstanceOf(LocalNetworkError);
    expect(err.code).toBe("LOCAL_PROCESS_EXITED");
    expect(err.shortMessage).toContain("crasher exited on its own (code 3)");
    expect(err.shortMessage).toContain("last words");
    expect(err.shortMessage).toContain(crasher.logFile);
    await net.stop();
    expect(readFileSync(steady.logFile, "utf8")).toContain("stopping");
  });

  it("fails to start when a process exits before it is ready, and stops the others", async () => {
    const steady = stand("steady2", stopsOnTerm);
    const early: LocalProcessSpec = {
      name: "early",
      url: "test://early",
      command: process.execPath,
      // Only once the other is ready, so that one is stopped, not killed before its SIGTERM handler is in.
      args: [
        "-e",
        `setInterval(() => {
           if (!require("node:fs").existsSync(process.argv[1])) return;
           console.error("cannot start: port taken");
           process.exit(1);
         }, 20);`,
        steady.readyFile,
      ],
      logFile: join(dir, "early.log"),
      ready: async () => false,
    };
    const err = await LocalNetwork.start([steady, early], { readyTimeoutMs: 20_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LocalNetworkError);
    expect((err as LocalNetworkError).shortMessage).toContain("early exited on its own (code 1)");
    expect((err as LocalNetworkError).shortMessage).toContain("cannot start: port taken");
    expect(readFileSync(steady.logFile, "utf8")).toContain("stopping");
  });

  it("fails to start when a process is not ready in time", async () => {
    const never: LocalProcessSpec = {
      ...stand("never", stopsOnTerm),
      ready: async () => false,
    };
    const err = await LocalNetwork.start([never], { readyTimeoutMs: 300 }).catch((e: unknown) => e);
    expect((err as LocalNetworkError).code).toBe("LOCAL_PROCESS_NOT_READY");
    expect((err as LocalNetworkError).shortMessage).toContain("never did not answer");
  });

  it("reports a command that cannot be started", async () => {
    const missing: LocalProcessSpec = {
      name: "missing",
      url: "test://missing",
      command: join(dir, "no-such-program"),
      args: [],
      logFile: join(dir, "missing.log"),
      ready: async () => true,
    };
    const err = await LocalNetwork.start([missing]).catch((e: unknown) => e);
    expect((err as LocalNetworkError).code).toBe("LOCAL_PROCESS_EXITED");
    expect((err as LocalNetworkError).shortMessage).toContain("missing could not be started");
  });
});

describe("LocalNetwork.run", () => {
  const listeners = () => [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];

  it("calls onReady once every process is ready, and stops them all when asked", async () => {
    const before = listeners();
    const specs = [stand("r1", stopsOnTerm), stand("r2", stopsOnTerm)];
    const stop = new AbortController();
    let names: string[] = [];
    await LocalNetwork.run(specs, {
      signal: stop.signal,
      onReady: (net) => {
        names = net.processes.map((p) => p.name);
        stop.abort();
      },
    });
    expect(names).toEqual(["r1", "r2"]);
    for (const s of specs) expect(readFileSync(s.logFile, "utf8")).toContain("stopping");
    expect(listeners()).toEqual(before);
  });

  it("stops processes that are still starting when asked, without calling onReady", async () => {
    const slow = stand("slow", stopsOnTerm);
    const stop = new AbortController();
    const onReady = vi.fn();
    const running = LocalNetwork.run([{ ...slow, ready: async () => false }], {
      signal: stop.signal,
      onReady,
    });
    // Its script has run (handler in), but the launcher does not see it as ready.
    await vi.waitFor(() => expect(existsSync(slow.readyFile)).toBe(true), { timeout: 20_000 });
    stop.abort();
    await running;
    expect(onReady).not.toHaveBeenCalled();
    expect(readFileSync(slow.logFile, "utf8")).toContain("stopping");
  });

  it("throws the error of a process that dies, after stopping the rest", async () => {
    const before = listeners();
    const steady = stand("steady3", stopsOnTerm);
    const crasher = stand(
      "crasher2",
      `setInterval(() => {
         if (fs.existsSync(process.argv[1] + ".crash")) { console.log("last words"); process.exit(7); }
       }, 20);`,
    );
    // It dies once everything is up, so the error comes from the running phase.
    const err = await LocalNetwork.run([steady, crasher], {
      onReady: () => writeFileSync(`${crasher.readyFile}.crash`, ""),
    }).catch((e: unknown) => e);
    expect((err as LocalNetworkError).code).toBe("LOCAL_PROCESS_EXITED");
    expect((err as LocalNetworkError).shortMessage).toContain(
      "crasher2 exited on its own (code 7)",
    );
    expect((err as LocalNetworkError).shortMessage).toContain("last words");
    expect(readFileSync(steady.logFile, "utf8")).toContain("stopping");
    expect(listeners()).toEqual(before);
  });
});
