/**
 * The edge's counters, served as Prometheus text on /metrics. Plain numbers
 * in memory (no client library: the same code runs in Workers, where each
 * isolate counts for itself). Labels are bounded: route names from the
 * route table, upstream indexes, cache tier names and error codes, never
 * URLs or client addresses.
 */

type Labels = Readonly<Record<string, string | number>>;

const PREFIX = "edgeledger_edge_";

const FAMILIES = {
  cache_hits_total: { type: "counter", help: "Answers served from the cache, by route." },
  cache_misses_total: {
    type: "counter",
    help: "Answers fetched from an upstream and verified, by route.",
  },
  cache_tier_hits_total: {
    type: "counter",
    help: "Lookups a cache tier answered (memory, cache_api, kv), by tier.",
  },
  cache_tier_misses_total: {
    type: "counter",
    help: "Lookups a cache tier did not answer (the next tier or an upstream was asked), by tier.",
  },
  singleflight_shared_total: {
    type: "counter",
    help: "Requests that waited for a fetch already in flight instead of making their own, by route.",
  },
  upstream_requests_total: { type: "counter", help: "HTTP requests sent to each upstream." },
  upstream_errors_total: {
    type: "counter",
    help: "Upstream exchanges that got no usable answer (unreachable, timeout, 429, 5xx, not JSON).",
  },
  upstream_busy_total: {
    type: "counter",
    help: "Submissions an upstream declined as busy (503 MEMPOOL_FULL, with Retry-After): not failures, the upstream is not put aside.",
  },
  verification_failures_total: {
    type: "counter",
    help: "Upstream answers that failed verification (never cached, never served), by upstream and error code.",
  },
  rate_limited_total: { type: "counter", help: "Requests refused with 429." },
  writes_forwarded_total: { type: "counter", help: "Transaction submissions forwarded." },
  head_height: { type: "gauge", help: "Height of the highest verified final header." },
  head_streams: { type: "gauge", help: "GET /v1/heads streams open." },
  head_streams_refused_total: {
    type: "counter",
    help: "GET /v1/heads subscriptions refused with 503 (maxSubscribers open).",
  },
  head_streams_dropped_total: {
    type: "counter",
    help: "GET /v1/heads streams dropped because the subscriber did not read (its queue passed maxQueuedBytes).",
  },
  chain_info: { type: "gauge", help: "1, labelled by the chain this edge serves (chain_id)." },
} as const satisfies Record<string, { type: "counter" | "gauge"; help: string }>;

export type MetricName = keyof typeof FAMILIES;

export class EdgeMetrics {
  readonly #values = new Map<MetricName, Map<string, number>>();

  #family(name: MetricName): Map<string, number> {
    let values = this.#values.get(name);
    if (!values) {
      values = new Map();
      this.#values.set(name, values);
    }
    return values;
  }

  inc(name: MetricName, labels: Labels = {}, by = 1): void {
    const values = this.#family(name);
    const key = labelText(labels);
    values.set(key, (values.get(key) ?? 0) + by);
  }

  set(name: MetricName, value: number, labels: Labels = {}): void {
    this.#family(name).set(labelText(labels), value);
  }

  /** A value for `labels` (tests). */
  get(name: MetricName, labels: Labels = {}): number {
    return this.#values.get(name)?.get(labelText(labels)) ?? 0;
  }

  /** The sum over every label set (tests). */
  total(name: MetricName): number {
    let sum = 0;
    for (const v of this.#values.get(name)?.values() ?? []) sum += v;
    return sum;
  }

  /** The Prometheus text exposition format. */
  text(): string {
    const lines: string[] = [];
    for (const [name, f] of Object.entries(FAMILIES)) {
      lines.push(`# HELP ${PREFIX}${name} ${f.help}`, `# TYPE ${PREFIX}${name} ${f.type}`);
      for (const [labels, value] of this.#values.get(name as MetricName) ?? [])
        lines.push(`${PREFIX}${name}${labels} ${value}`);
    }
    return `${lines.join("\n")}\n`;
  }
}

/** Counts each cache lookup by tier (a LookupObserver of cache/store.ts). */
export function lookupCounter(metrics: EdgeMetrics): (tier: string, hit: boolean) => void {
  // Label objects made once per tier: label text is kept by object.
  const labels = new Map<string, { readonly tier: string }>();
  return (tier, hit) => {
    let label = labels.get(tier);
    if (!label) {
      label = { tier };
      labels.set(tier, label);
    }
    metrics.inc(hit ? "cache_tier_hits_total" : "cache_tier_misses_total", label);
  };
}

/** Label text by label object: callers on hot paths pass the same object each time. */
const LABEL_TEXT = new WeakMap<Labels, string>();

function labelText(labels: Labels): string {
  let text = LABEL_TEXT.get(labels);
  if (text === undefined) {
    text = formatLabels(labels);
    LABEL_TEXT.set(labels, text);
  }
  return text;
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  const escaped = (v: string) =>
    v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  return `{${entries.map(([k, v]) => `${k}="${escaped(String(v))}"`).join(",")}}`;
}
