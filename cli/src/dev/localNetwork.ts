/**
 * A local network on one machine: a list of child processes, each with a
 * name, the URL it serves and a readiness check. It starts them (each one's
 * output to its own log file), waits until every one is ready, notices one
 * that exits on its own, and stops them all: SIGTERM, then SIGKILL after a
 * grace period. `LocalNetwork.run` is the whole lifetime under Ctrl-C.
 * Each child's stdin is a lifeline (`watchLifeline` of @edgeledger/sdk/node): a pipe from this process
 * that closes when it goes, even by kill -9, so no child outlives it.
 * `edgeledger dev` runs its validators through it; it knows nothing of
 * validators, so another kind of process (an edge worker) is one more entry
 * in the list.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { LIFELINE_ENV } from "@edgeledger/sdk/node";
import { BaseError } from "@edgeledger/sdk/protocol";

export interface LocalProcessSpec {
  /** Names it to the user and in errors, e.g. "validator-0". */
  readonly name: string;
  /** What it serves, shown to the user. */
  readonly url: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Receives its stdout and stderr; emptied at each start, so it holds this run only. */
  readonly logFile: string;
  /** Resolves true once the process serves; polled until then. Must not hang (see `httpReady`). */
  ready(): Promise<boolean>;
}

export interface LocalNetworkOptions {
  /** How long every process has to become ready. */
  readyTimeoutMs?: number;
  /** How long a process has to exit after SIGTERM before it gets SIGKILL. */
  stopTimeoutMs?: number;
  /** How often readiness is polled. */
  pollMs?: number;
}

export const defaultLocalNetworkOptions: Required<LocalNetworkOptions> = {
  // Generous: several Node processes starting at once on a small machine.
  readyTimeoutMs: 60_000,
  stopTimeoutMs: 10_000,
  pollMs: 100,
};

/** How many lines of a dead process's log an error quotes. */
const LAST_LINES = 20;

export type LocalNetworkErrorCode =
  | "LOCAL_PROCESS_EXITED"
  | "LOCAL_PROCESS_NOT_READY"
  | "LOCAL_NETWORK_INTERRUPTED";

export class LocalNetworkError extends BaseError<LocalNetworkErrorCode> {
  override name = "LocalNetworkError";
}

/** A readiness check: `url` answers 2xx within `timeoutMs`. */
export function httpReady(url: string, timeoutMs = 2000): () => Promise<boolean> {
  return () =>
    fetch(url, { signal: AbortSignal.timeout(timeoutMs) }).then(
      async (res) => {
        // Drain the body so the connection is released, not left to the GC.
        await res.arrayBuffer();
        return res.ok;
      },
      () => false,
    );
}

interface Running {
  readonly spec: LocalProcessSpec;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (or could not be spawned). */
  readonly exited: Promise<void>;
}

export class LocalNetwork {
  readonly #running: Running[] = [];
  readonly #options: Required<LocalNetworkOptions>;
  #stopping = false;
  #reportDeath: (err: LocalNetworkError) => void = () => undefined;
  readonly #death: Promise<LocalNetworkError>;
  /** Last resort if this process exits without stop() (an exception): no child outlives it. */
  readonly #killAllOnExit = () => {
    for (const r of this.#running) if (isRunning(r.child)) r.child.kill("SIGKILL");
  };

  private constructor(options: LocalNetworkOptions) {
    this.#options = { ...defaultLocalNetworkOptions, ...options };
    this.#death = new Promise((resolve) => {
      this.#reportDeath = resolve;
    });
  }

  /**
   * The whole lifetime, for a command in a terminal: starts every process,
   * calls `onReady` once all are ready, and runs until SIGINT or SIGTERM
   * (or `signal` aborts), then stops them all and resolves. If a process
   * exits on its own or is not ready in time, stops the rest and throws its
   * LocalNetworkError.
   */
  static async run(
    specs: readonly LocalProcessSpec[],
    options: LocalNetworkOptions & {
      onReady?: (net: LocalNetwork) => Promise<void> | void;
      signal?: AbortSignal;
    } = {},
  ): Promise<void> {
    const signalled = new AbortController();
    const onSignal = () => signalled.abort();
    const stop = options.signal
      ? AbortSignal.any([signalled.signal, options.signal])
      : signalled.signal;
    // Installed before the first spawn and kept until everything has stopped:
    // a Ctrl-C while processes start must stop them too, and one often
    // arrives twice (from the terminal and forwarded by npm); a signal with
    // no handler would end this process with its children still running.
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      let net: LocalNetwork;
      try {
        net = await LocalNetwork.start(specs, { ...options, signal: stop });
      } catch (err) {
        // Stopped while starting, as asked: not a failure.
        if (stop.aborted) return;
        throw err;
      }
      try {
        await options.onReady?.(net);
        const death = await Promise.race([whenAborted(stop).then(() => null), net.died()]);
        if (death) throw death;
      } finally {
        await net.stop();
      }
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }

  /**
   * Spawns every process and resolves once each one is ready. If one exits
   * or is not ready in time, stops them all and throws a LocalNetworkError
   * quoting that process's last output; if `signal` aborts first, stops
   * them all and throws LOCAL_NETWORK_INTERRUPTED.
   */
  static async start(
    specs: readonly LocalProcessSpec[],
    options: LocalNetworkOptions & { signal?: AbortSignal } = {},
  ): Promise<LocalNetwork> {
    const net = new LocalNetwork(options);
    process.on("exit", net.#killAllOnExit);
    try {
      for (const spec of specs) net.#spawn(spec);
      const ready = Promise.all(net.#running.map((r) => net.#untilReady(r)));
      const interrupted = options.signal
        ? whenAborted(options.signal).then(
            () =>
              new LocalNetworkError(
                "LOCAL_NETWORK_INTERRUPTED",
                "Stopped before every process was ready.",
              ),
          )
        : new Promise<never>(() => undefined);
      const outcome = await Promise.race([ready.then(() => null), net.#death, interrupted]);
      if (outcome) throw outcome;
      return net;
    } catch (err) {
      await net.stop();
      throw err;
    }
  }

  get processes(): readonly LocalProcessSpec[] {
    return this.#running.map((r) => r.spec);
  }

  /** Resolves with the error describing the first process that exited on its own; never, if none does. */
  died(): Promise<LocalNetworkError> {
    return this.#death;
  }

  /** Stops every process still running: SIGTERM, then SIGKILL if it has not exited in time. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#running.map((r) => this.#stopOne(r)));
    process.off("exit", this.#killAllOnExit);
  }

  #spawn(spec: LocalProcessSpec): void {
    const log = openSync(spec.logFile, "w");
    let child: ChildProcess;
    try {
      child = spawn(spec.command, [...spec.args], {
        // stdin: the lifeline, never written to; closed by the kernel when this process goes.
        stdio: ["pipe", log, log],
        env: { ...(spec.env ?? process.env), [LIFELINE_ENV]: "stdin" },
        // Its own process group: a Ctrl-C in the terminal reaches only this
        // launcher, which then stops each child with one SIGTERM, and can
        // tell a child that died on its own from one it stopped.
        detached: true,
        windowsHide: true,
      });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(log);
    }
    // A child that has exited closes its end; there is nothing to write, so nothing to report.
    child.stdin?.on("error", () => undefined);
    const exited = new Promise<void>((resolve) => {
      const onEnd = (code: number | null, signal: NodeJS.Signals | null, cause?: Error) => {
        resolve();
        if (this.#stopping) return;
        const how = cause
          ? `could not be started (${cause.message})`
          : `exited on its own (${signal ? `signal ${signal}` : `code ${code}`})`;
        this.#reportDeath(
          new LocalNetworkError(
            "LOCAL_PROCESS_EXITED",
            `${spec.name} ${how}; every other process is stopped too. Its last output (${spec.logFile}):\n${lastLines(spec.logFile)}`,
            { ...(cause && { cause }), details: { name: spec.name, code, signal } },
          ),
        );
      };
      child.once("exit", (code, signal) => onEnd(code, signal));
      // Only when spawning failed (e.g. no such command): then no "exit" follows.
      child.once("error", (err) => {
        if (child.pid === undefined) onEnd(null, null, err);
      });
    });
    this.#running.push({ spec, child, exited });
  }

  async #untilReady(r: Running): Promise<void> {
    const deadline = Date.now() + this.#options.readyTimeoutMs;
    for (;;) {
      if (this.#stopping) return;
      // Checked first, so a port some other program answers on does not pass
      // for a process that is gone. Its exit was reported (or, for a failed
      // spawn, is about to be): that is the error.
      if (!isRunning(r.child)) throw await this.#death;
      if (await r.spec.ready().catch(() => false)) return;
      if (Date.now() > deadline) {
        throw new LocalNetworkError(
          "LOCAL_PROCESS_NOT_READY",
          `${r.spec.name} did not answer at ${r.spec.url} within ${this.#options.readyTimeoutMs / 1000} s; every process is stopped. Its last output (${r.spec.logFile}):\n${lastLines(r.spec.logFile)}`,
          { details: { name: r.spec.name, url: r.spec.url } },
        );
      }
      await sleep(this.#options.pollMs);
    }
  }

  async #stopOne(r: Running): Promise<void> {
    if (!isRunning(r.child)) return r.exited;
    r.child.kill("SIGTERM");
    if (await within(r.exited, this.#options.stopTimeoutMs)) return;
    r.child.kill("SIGKILL");
    await r.exited;
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function lastLines(file: string): string {
  if (!existsSync(file)) return "  (no log)";
  const lines = readFileSync(file, "utf8").split("\n").filter(Boolean).slice(-LAST_LINES);
  return lines.length ? lines.map((l) => `  ${l}`).join("\n") : "  (empty)";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}

/** True if `p` settles within `ms`; the timer never outlives the answer. */
async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
