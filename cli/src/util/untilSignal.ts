/**
 * How a long-running command (start, edge) waits: until SIGINT (Ctrl-C) or
 * SIGTERM, then it stops what it runs and returns.
 */

/** Resolves on the first SIGINT or SIGTERM, and stops listening for both. */
export function untilSignal(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
