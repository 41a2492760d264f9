/**
 * The Grafana dashboard (deploy/grafana/edgeledger.json) and the Prometheus
 * alert rules (deploy/prometheus/alerts.yaml) against what nodes and edges
 * really export: both files parse, every expression in them parses as
 * PromQL (Prometheus's own lezer grammar, @prometheus-io/lezer-promql; and
 * promtool, a prerequisite of the suite like kubectl (README), runs its type
 * checks and the alerts' unit tests in alerts.test.yaml), and every metric
 * they name is on the /metrics of a real node process or of an edge app,
 * or is in the short, named list of other exporters' metrics below. A
 * dashboard naming a metric nobody exports fails here. The same node then
 * commits a transfer, and the consensus metrics the dashboard reads move.
 *
 * Here, in the CLI package, because it is the one above both node and edge.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEdgeApp } from "@edgeledger/edge";
import { cleanup, genesisHashOf, makeHome, startNode } from "@edgeledger/node/testing";
import { createClient, localSigner } from "@edgeledger/sdk";
import { parser } from "@prometheus-io/lezer-promql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";

const ROOT = new URL("../../", import.meta.url).pathname;
const DASHBOARD = join(ROOT, "deploy/grafana/edgeledger.json");
const ALERTS = join(ROOT, "deploy/prometheus/alerts.yaml");
const CHAIN = "observe-test";
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
const DATASOURCE_VARIABLE = "${datasource}";

/**
 * Metrics the files may use that no edgeledger process exports: Prometheus's
 * own, and node_exporter's file systems (the disk alerts).
 */
const OTHER_EXPORTERS = new Set([
  "up",
  "node_filesystem_avail_bytes",
  "node_filesystem_size_bytes",
]);

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly id: number;
  readonly datasource?: { readonly uid: string };
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly targets?: readonly { expr: string; refId: string; datasource: { uid: string } }[];
}
interface Dashboard {
  readonly schemaVersion: number;
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: {
    readonly list: readonly { name: string; type: string; query: unknown; definition?: string }[];
  };
}
interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: { readonly severity: string };
  readonly annotations: Readonly<Record<string, string>>;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard;
const rules = (
  parseYaml(readFileSync(ALERTS, "utf8")) as { groups: { name: string; rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);

/** Grafana's variables as values PromQL accepts: intervals as a duration, the others as a name. */
function substituteVariables(expr: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b/g, "5m")
    .replace(/\$\{?[A-Za-z_]\w*\}?/g, "x");
}

/** The dashboard's PromQL: panel targets, and the selectors inside its label_values() variables. */
function dashboardExpressions(): { where: string; expr: string }[] {
  const found: { where: string; expr: string }[] = [];
  for (const p of dashboard.panels)
    for (const t of p.targets ?? []) found.push({ where: `panel "${p.title}"`, expr: t.expr });
  for (const v of dashboard.templating.list) {
    if (v.type !== "query") continue;
    const query = (v.query as { query: string }).query;
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query);
    if (!m) throw new Error(`variable ${v.name}: not a label_values() query: ${query}`);
    found.push({ where: `variable ${v.name}`, expr: m[1]! });
  }
  return found.map((e) => ({ ...e, expr: substituteVariables(e.expr) }));
}

const ruleExpressions = () => rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }));

/** Syntax errors (as the text around each) and the metric names an expression selects. */
function analyse(expr: string): { errors: string[]; metrics: string[] } {
  const errors: string[] = [];
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError)
        errors.push(`at ${node.from}: "${expr.slice(node.from, node.to + 10)}"`);
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector")
        metrics.push(expr.slice(node.from, node.to));
    },
  });
  return { errors, metrics };
}

/** Names a /metrics text exposes, a histogram's and summary's series included. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
    if (type === "summary") for (const s of ["_sum", "_count"]) names.add(name + s);
  }
  return names;
}

/** Metric names not exported, per place they are used. */
function unknownMetrics(
  expressions: { where: string; expr: string }[],
  exported: Set<string>,
): string[] {
  return expressions.flatMap(({ where, expr }) =>
    analyse(expr)
      .metrics.filter((n) => !exported.has(n) && !OTHER_EXPORTERS.has(n))
      .map((n) => `${where}: ${n}`),
  );
}

/** The first sample of `name` (any labels) in a /metrics text; 0 when there is none. */
function firstSample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

const promtool = spawnSync("promtool", ["--version"]).status === 0;
/** promtool is a prerequisite of the suite, like kubectl (README): missing, these fail, never skip. */
const PROMTOOL_MISSING =
  "promtool is not installed: it checks and unit-tests the alert rules (Debian: apt-get install prometheus; macOS: brew install prometheus)";

describe("deploy/grafana and deploy/prometheus", () => {
  let exported = new Set<string>();
  let nodeText = "";
  let nodeUrl = "";
  let home: Awaited<ReturnType<typeof makeHome>>;

  beforeAll(async () => {
    // A real node process (its /metrics as an operator scrapes it) and an edge app in-process.
    home = await makeHome(CHAIN, 1_000n);
    await startNode(home);
    nodeUrl = home.url;
    nodeText = await (await fetch(`${home.url}/metrics`)).text();
    const edge = createEdgeApp({
      upstreams: [home.url],
      chainId: CHAIN,
      trust: { genesisHash: genesisHashOf(home.home) },
    });
    const edgeText = await (await edge.request("/metrics")).text();
    exported = new Set([...exposedNames(nodeText), ...exposedNames(edgeText)]);
  });
  afterAll(cleanup);

  it("has a dashboard of the current schema with a data source variable, node, edge and chain variables", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const variables = dashboard.templating.list.map((v) => `${v.name}:${v.type}`);
    expect(variables).toEqual([
      "datasource:datasource",
      "chain:query",
      "instance:query",
      "edge:query",
    ]);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      if (p.type === "row") continue;
      // Every query through the chosen data source, never one pinned at export time.
      expect(p.datasource?.uid, p.title).toBe(DATASOURCE_VARIABLE);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource.uid, p.title).toBe(DATASOURCE_VARIABLE);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
  });

  it("has alert rules each with a severity, a summary, a description and a runbook in docs/operations.md", () => {
    const headings = new Set(
      [...readFileSync(join(ROOT, "docs/operations.md"), "utf8").matchAll(/^#+ (.+)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^\w\- ]/g, "")
          .replace(/ /g, "-"),
      ),
    );
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const r of rules) {
      expect(["warning", "critical"], r.alert).toContain(r.labels.severity);
      expect(r.annotations["summary"], r.alert).toBeTruthy();
      expect(r.annotations["description"], r.alert).toBeTruthy();
      const runbook = /^docs\/operations\.md#(.+)$/.exec(r.annotations["runbook_url"] ?? "");
      expect(runbook, `${r.alert}: runbook_url`).not.toBeNull();
      expect(headings, `${r.alert}: no heading #${runbook![1]} in operations.md`).toContain(
        runbook![1],
      );
    }
    // What the issue asks for, by name.
    for (const name of [
      "EdgeledgerNoCommit",
      "EdgeledgerValidatorMissingFromCertificates",
      "EdgeledgerPeersLow",
      "EdgeledgerDiskFilling",
    ])
      expect(rules.map((r) => r.alert)).toContain(name);
  });

  it("has only expressions that parse as PromQL", () => {
    const bad = [...dashboardExpressions(), ...ruleExpressions()]
      .map(({ where, expr }) => ({ where, errors: analyse(expr).errors }))
      .filter((e) => e.errors.length > 0);
    expect(bad).toEqual([]);
    // And the parser does find errors (a guard against a grammar that accepts anything).
    expect(analyse("rate(edgeledger_height[5m]").errors).not.toEqual([]);
  });

  it("names only metrics that a node or an edge exports", () => {
    expect(unknownMetrics([...dashboardExpressions(), ...ruleExpressions()], exported)).toEqual([]);
    // A misspelt name is caught.
    expect(unknownMetrics([{ where: "probe", expr: "edgeledger_heigth" }], exported)).toEqual([
      "probe: edgeledger_heigth",
    ]);
    // The disk alert's gauge (metrics/storage.ts) is on a real node's /metrics.
    expect(exported.has("edgeledger_db_size_bytes")).toBe(true);
    // The new consensus metrics are on a real node's /metrics, the chain identified.
    expect(nodeText).toContain(`edgeledger_chain_info{chain_id="${CHAIN}"} 1`);
  });

  it("runs the offline checks docs/monitoring.md shows, as a reader would", () => {
    expect(promtool, PROMTOOL_MISSING).toBe(true);
    const doc = readFileSync(join(ROOT, "docs/monitoring.md"), "utf8");
    const block = doc.split("Checks that run offline")[1]!.split("```sh")[1]!.split("```")[0]!;
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      const run = spawnSync("bash", ["-c", line], { cwd: ROOT, encoding: "utf8" });
      expect(run.status, `${line}\n${run.stdout}${run.stderr}`).toBe(0);
    }
  });

  it("moves the new consensus metrics on a real node as it commits (node.ts wires them)", async () => {
    const genesisHash = genesisHashOf(home.home);
    const client = createClient({ url: nodeUrl, chainId: CHAIN, trust: { genesisHash } });
    const sent = await client.transfer({
      signer: localSigner(home.funded),
      to: home.fundedAddress,
      amount: 1n,
    });
    await sent.wait({ timeoutMs: 30_000 });
    // The driver reports a height's phases just after its commit: wait for them, with a deadline.
    const deadline = Date.now() + 10_000;
    let text = "";
    do {
      text = await (await fetch(`${nodeUrl}/metrics`)).text();
      if (firstSample(text, "edgeledger_consensus_commit_latency_seconds_count") >= 1) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    expect(
      firstSample(text, "edgeledger_consensus_commit_latency_seconds_count"),
    ).toBeGreaterThanOrEqual(1);
    expect(firstSample(text, "edgeledger_consensus_rounds_count")).toBeGreaterThanOrEqual(1);
    // The sole validator signs every certificate: counted, never missed, all the power.
    expect(firstSample(text, "edgeledger_validator_certificates_total")).toBeGreaterThanOrEqual(1);
    expect(firstSample(text, "edgeledger_validator_missed_certificates_total")).toBe(0);
    expect(firstSample(text, "edgeledger_consensus_certificate_power_ratio")).toBe(1);
  });

  it("passes promtool's checks (rules, and dashboard queries as recording rules)", () => {
    expect(promtool, PROMTOOL_MISSING).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "promtool-"));
    try {
      execFileSync("promtool", ["check", "rules", ALERTS], { stdio: "pipe" });
      // The alerts' own unit tests: each fires on the series it is for, and not on its look-alike.
      execFileSync("promtool", ["test", "rules", "alerts.test.yaml"], {
        cwd: join(ROOT, "deploy/prometheus"),
        stdio: "pipe",
      });
      // promtool type-checks rule files only: the dashboard's queries go in as recording rules.
      const recorded = dashboardExpressions().map((e, i) => ({
        record: `dashboard:query_${i}`,
        expr: e.expr,
      }));
      const file = join(dir, "dashboard.rules.json");
      writeFileSync(file, JSON.stringify({ groups: [{ name: "dashboard", rules: recorded }] }));
      execFileSync("promtool", ["check", "rules", file], { stdio: "pipe" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
