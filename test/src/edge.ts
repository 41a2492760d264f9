/**
 * The edge under test on a runtime (Node here; workerd in edgeWorkerd.ts),
 * reached by its base URL, and its metrics. The proxies the scenarios put
 * in front of nodes are in proxy.ts.
 */

/** An edge under test: its base URL, and its metrics as numbers. */
export interface EdgeUnderTest {
  readonly runtime: "node" | "workerd";
  readonly url: string;
  /** Whether the runtime's shared cache (the Workers Cache API) holds `key`; absent where there is none. */
  readonly cached?: (key: string) => Promise<boolean>;
  close(): Promise<void>;
}

/** The value of one metric line (`name{labels}`) on the edge's /metrics, summed over labels when none are given. */
export async function metric(edge: EdgeUnderTest, name: string, labels?: string): Promise<number> {
  const text = await (await fetch(`${edge.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const [key, value] = line.split(" ");
    if (!key || value === undefined) continue;
    const bare = key.replace(/\{.*$/, "");
    if (bare !== `edgeledger_edge_${name}`) continue;
    if (labels !== undefined && key !== `edgeledger_edge_${name}{${labels}}`) continue;
    sum += Number(value);
  }
  return sum;
}
