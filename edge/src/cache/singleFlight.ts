/**
 * Single-flight: concurrent requests for one key share one fetch. The first
 * caller runs it; the others wait for its outcome (success or failure) and
 * nothing is remembered once it settles: the cache, not this, keeps answers.
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Promise<T>>();

  /** In-flight runs now (tests, metrics). */
  get size(): number {
    return this.#flights.size;
  }

  /** Runs `fn` for `key`, or joins the run already in flight; `shared` tells which. */
  run(
    key: string,
    fn: () => Promise<T>,
  ): { readonly promise: Promise<T>; readonly shared: boolean } {
    const running = this.#flights.get(key);
    if (running) return { promise: running, shared: true };
    const promise = (async () => {
      try {
        return await fn();
      } finally {
        this.#flights.delete(key);
      }
    })();
    this.#flights.set(key, promise);
    return { promise, shared: false };
  }
}
