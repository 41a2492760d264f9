/**
 * The client's one timer: every wait in the SDK (the transport's backoff,
 * the head watch's polling, waiting for finality) sleeps through it, so a
 * caller's AbortSignal ends each of them at once and a stopped wait leaves
 * neither a timer nor a listener behind (a long-lived signal outlives many
 * waits; a listener per wait would pile up on it).
 */

/**
 * Resolves after `ms`, or as soon as `signal` aborts (at once if it already
 * has). Never rejects: callers decide what an abort means (the transport
 * throws TRANSPORT_ABORTED, a watch just stops), by looking at the signal.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
