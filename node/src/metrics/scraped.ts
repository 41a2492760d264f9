/**
 * A gauge read from a report at each scrape: how the health and storage
 * metrics (health.ts, storage.ts) export what their reports already hold,
 * with no event to keep it current between scrapes. A report of undefined
 * (not known yet: the storage part while a state sync join writes the
 * database) resets the gauge rather than failing the whole scrape.
 */
import { Gauge, type Registry } from "prom-client";

export function scrapedGauge<R>(
  registry: Registry,
  report: () => R | undefined,
): (name: string, help: string, value: (r: R) => number) => Gauge {
  return (name, help, value) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const r = report();
        if (r === undefined) this.reset();
        else this.set(value(r));
      },
    });
}
