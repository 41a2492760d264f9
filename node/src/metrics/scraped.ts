/**
 * A gauge read from a report at each scrape: how the health and storage
 * metrics (health.ts, storage.ts) export what their reports already hold,
 * with no event to keep it current between scrapes.
 */
import { Gauge, type Registry } from "prom-client";

export function scrapedGauge<R>(
  registry: Registry,
  report: () => R,
): (name: string, help: string, value: (r: R) => number) => Gauge {
  return (name, help, value) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(report()));
      },
    });
}
