/**
 * deploy/kubernetes, offline: each overlay renders with `kubectl kustomize`
 * over a network that `edgeledger testnet --kubernetes` wrote; every object
 * validates against the Kubernetes schemas (kubernetes-models, and the
 * prometheus-operator's models for the ServiceMonitor); and what each node's
 * pod gets (config, genesis, keys, peers) is what `testnet` wrote for it,
 * with only the addresses a pod needs changed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { genesisState, parseGenesis } from "@edgeledger/node";
import { toHex } from "@edgeledger/sdk/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  homeFile,
  type KubeObject,
  kustomize,
  removeTestNetwork,
  type TestNetwork,
  writeTestNetwork,
} from "./network.ts";

interface Validating {
  validate(): void;
}
type ModelClass = new (data: KubeObject) => Validating;

/** The model classes by apiVersion, then kind: each validates its object against its schema. */
const models: Record<string, Record<string, unknown>> = {
  v1: await import("kubernetes-models/v1"),
  "apps/v1": await import("kubernetes-models/apps/v1"),
  "policy/v1": await import("kubernetes-models/policy/v1"),
  "autoscaling/v2": await import("kubernetes-models/autoscaling/v2"),
  "networking.k8s.io/v1": await import("kubernetes-models/networking.k8s.io/v1"),
  "monitoring.coreos.com/v1": await import(
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1"
  ),
};

/**
 * kustomize wraps a Secret's base64 at 70 columns; the API server's Go
 * decoder skips those line breaks, the schema's `byte` pattern does not, so
 * they go before the check (and only they: anything else that is not base64
 * still fails).
 */
function unwrapSecretData(o: KubeObject): KubeObject {
  const raw = o["data"];
  if (o.kind !== "Secret" || typeof raw !== "object" || raw === null) return o;
  const data = Object.fromEntries(
    Object.entries(raw as Record<string, string>).map(([k, v]) => [k, v.replace(/\n/g, "")]),
  );
  return { ...o, data };
}

/** Throws what the schema refuses in `o`, naming the object; an unknown kind is refused too. */
function validate(o: KubeObject): void {
  const Model = models[o.apiVersion]?.[o.kind] as ModelClass | undefined;
  if (Model === undefined) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
  try {
    new Model(unwrapSecretData(o)).validate();
  } catch (err) {
    throw new Error(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
  }
}

const OVERLAYS = ["validators", "full-nodes", "edges", "testnet"] as const;
const VALIDATORS = ["validator-0", "validator-1", "validator-2", "validator-3"];
const NODES = [...VALIDATORS, "full-0", "full-1"];
const NS = "edgeledger";
const podName = (node: string) => `${node}-0.${node}.${NS}.svc.cluster.local`;

interface Container {
  name: string;
  args?: string[];
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
}
interface Workload extends KubeObject {
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: unknown[];
  };
}

let net: TestNetwork;
const rendered = new Map<string, KubeObject[]>();

beforeAll(() => {
  net = writeTestNetwork();
  for (const o of OVERLAYS) rendered.set(o, kustomize(join(net.deploy, "kubernetes/overlays", o)));
});
afterAll(() => removeTestNetwork(net));

const all = () => rendered.get("testnet")!;
const find = (kind: string, name: string): KubeObject => {
  const o = all().find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`${kind}/${name} is not rendered`);
  return o;
};
/** A generated object (its name ends in kustomize's content hash). */
const generated = (kind: string, name: string): KubeObject & { data: Record<string, string> } => {
  const o = all().find(
    (x) => x.kind === kind && new RegExp(`^${name}-[a-z0-9]{10}$`).test(x.metadata.name),
  );
  if (o === undefined) throw new Error(`${kind} ${name}-<hash> is not rendered`);
  return o as KubeObject & { data: Record<string, string> };
};
const specOfBudget = (o: KubeObject) => (o as unknown as { spec: Record<string, unknown> }).spec;
const volumesOf = (node: string) =>
  (find("StatefulSet", node) as Workload).spec.template.spec.volumes ?? [];

describe("deploy/kubernetes", () => {
  it("renders every overlay, and each object validates against its Kubernetes schema", () => {
    for (const o of OVERLAYS) {
      const objects = rendered.get(o)!;
      expect(objects.length, o).toBeGreaterThan(0);
      for (const obj of objects) validate(obj);
      for (const obj of objects.filter((x) => x.kind !== "Namespace"))
        expect(obj.metadata.namespace, `${obj.kind}/${obj.metadata.name}`).toBe(NS);
    }
    const kinds = new Set(all().map((o) => o.kind));
    for (const k of [
      "StatefulSet",
      "Service",
      "ConfigMap",
      "Secret",
      "Deployment",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "NetworkPolicy",
      "ServiceMonitor",
    ])
      expect(kinds, k).toContain(k);
  });

  it("refuses what the schemas refuse (the check can fail)", () => {
    const sts = structuredClone(find("StatefulSet", "validator-0")) as Workload;
    (sts.spec as Record<string, unknown>)["replicas"] = "one";
    expect(() => validate(sts)).toThrow(/StatefulSet\/validator-0/);
    const monitor = structuredClone(find("ServiceMonitor", "edgeledger"));
    (monitor as unknown as { spec: { endpoints: unknown } }).spec.endpoints = "api";
    expect(() => validate(monitor)).toThrow(/ServiceMonitor/);
  });

  it("gives each node its own StatefulSet, PVC, headless Service, ConfigMap and Secret", () => {
    for (const node of NODES) {
      const sts = find("StatefulSet", node) as Workload;
      expect(sts.spec.replicas).toBe(1);
      expect(sts.spec.serviceName).toBe(node);
      expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
      expect(sts.spec.template.metadata.labels["app.kubernetes.io/component"]).toBe(
        node.startsWith("validator") ? "validator" : "full-node",
      );
      const svc = find("Service", node) as KubeObject & {
        spec: {
          clusterIP: string;
          publishNotReadyAddresses: boolean;
          selector: Record<string, string>;
        };
      };
      expect(svc.spec.clusterIP).toBe("None");
      expect(svc.spec.publishNotReadyAddresses).toBe(true);
      // The Service selects this node's pod and no other.
      expect(svc.spec.selector["edgeledger.dev/node"]).toBe(node);
      expect(sts.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
      // Only its own config and keys are mounted.
      const names = volumesOf(node).map((v) => v.configMap?.name ?? v.secret?.secretName ?? "");
      expect(names).toEqual([
        generated("ConfigMap", `${node}-config`).metadata.name,
        generated("Secret", `${node}-keys`).metadata.name,
      ]);
    }
  });

  it("mounts what testnet wrote: the genesis, the keys (in Secrets only), and the config with pod addresses", () => {
    const p2pPorts = NODES.map(
      (n) => JSON.parse(homeFile(net, n, "config.json")).network.listen[0] as string,
    );
    for (const node of NODES) {
      const cm = generated("ConfigMap", `${node}-config`);
      const secret = generated("Secret", `${node}-keys`);
      expect(Object.keys(cm.data).sort()).toEqual(["config.json", "genesis.json"]);
      expect(cm.data["genesis.json"]).toBe(homeFile(net, node, "genesis.json"));
      expect(JSON.stringify(cm.data)).not.toMatch(/secretKey|peerKey/);
      for (const key of ["validator_key.json", "node_key.json"])
        expect(Buffer.from(secret.data[key]!, "base64").toString("utf8")).toBe(
          homeFile(net, node, key),
        );

      const home = JSON.parse(homeFile(net, node, "config.json"));
      const pod = JSON.parse(cm.data["config.json"]!);
      // Every key as testnet wrote it, but the addresses.
      expect({
        ...pod,
        api: { ...pod.api, host: "", port: 0 },
        network: { ...pod.network, listen: [], bootstrap: [] },
      }).toEqual({
        ...home,
        api: { ...home.api, host: "", port: 0 },
        network: { ...home.network, listen: [], bootstrap: [] },
      });
      expect(pod.api).toMatchObject({ host: "0.0.0.0", port: 8545 });
      expect(pod.network.listen).toEqual(["/ip4/0.0.0.0/tcp/8645"]);
      // The same peers (peer ids) as the home's, each at its validator pod's DNS name.
      const expected = (home.network.bootstrap as string[]).map((addr) => {
        const [, port, peerId] = /\/tcp\/(\d+)\/p2p\/(\w+)$/.exec(addr)!;
        const peer = NODES[p2pPorts.findIndex((l) => l.endsWith(`/tcp/${port}`))]!;
        return `/dns4/${podName(peer)}/tcp/8645/p2p/${peerId}`;
      });
      expect(pod.network.bootstrap).toEqual(expected);
      expect(pod.network.bootstrap).toHaveLength(node.startsWith("validator") ? 3 : 4);
    }
  });

  it("has the edges trust the genesis testnet wrote, and reach the nodes' API", () => {
    const genesis = parseGenesis(
      JSON.parse(homeFile(net, "validator-0", "genesis.json")),
      "genesis.json",
    );
    const trust = generated("ConfigMap", "edge-trust");
    expect(trust.data).toEqual({
      CHAIN_ID: genesis.chainId,
      GENESIS_HASH: toHex(genesisState(genesis).hash),
    });
    const edge = find("Deployment", "edge") as Workload;
    const args = edge.spec.template.spec.containers[0]!.args!;
    expect(args.slice(0, 3)).toEqual(["edge", "--upstream", "http://node-api:8545"]);
    expect(args).toEqual(expect.arrayContaining(["$(CHAIN_ID)", "$(GENESIS_HASH)", "0.0.0.0"]));
    const hpa = find("HorizontalPodAutoscaler", "edge") as KubeObject & {
      spec: { scaleTargetRef: { kind: string; name: string } };
    };
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: "edge" });
  });

  it("runs every container as non-root on a read-only root filesystem, with probes on the health routes", () => {
    const workloads = all().filter(
      (o) => o.kind === "StatefulSet" || o.kind === "Deployment",
    ) as Workload[];
    for (const w of workloads) {
      const spec = w.spec.template.spec;
      expect(spec.securityContext, w.metadata.name).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
      });
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect(c.securityContext, `${w.metadata.name}/${c.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        expect(c.resources?.requests, `${w.metadata.name}/${c.name}`).toBeDefined();
        expect(c.resources?.limits?.["memory"], `${w.metadata.name}/${c.name}`).toBeDefined();
      }
      const main = spec.containers[0]!;
      const [live, ready] =
        w.kind === "StatefulSet"
          ? ["/v1/health?probe=live", "/v1/health"]
          : ["/health?probe=live", "/health"];
      expect(main.livenessProbe?.httpGet?.path).toBe(live);
      expect(main.readinessProbe?.httpGet?.path).toBe(ready);
    }
  });

  it("selects real pods with every Service, PodDisruptionBudget, NetworkPolicy and the ServiceMonitor", () => {
    const pods = (
      all().filter((o) => o.kind === "StatefulSet" || o.kind === "Deployment") as Workload[]
    ).map((w) => w.spec.template.metadata.labels);
    const matches = (selector: Record<string, string>) =>
      pods.filter((labels) => Object.entries(selector).every(([k, v]) => labels[k] === v)).length;
    const specOf = (o: KubeObject) => (o as unknown as { spec: Record<string, unknown> }).spec;
    for (const svc of all().filter((o) => o.kind === "Service"))
      expect(
        matches(specOf(svc)["selector"] as Record<string, string>),
        svc.metadata.name,
      ).toBeGreaterThan(0);
    const pdb = (name: string) =>
      matches(
        (
          specOf(find("PodDisruptionBudget", name))["selector"] as {
            matchLabels: Record<string, string>;
          }
        ).matchLabels,
      );
    expect([pdb("validators"), pdb("full-nodes"), pdb("edge")]).toEqual([4, 2, 1]);
    expect(specOf(find("PodDisruptionBudget", "validators"))["maxUnavailable"]).toBe(1);
    for (const np of all().filter((o) => o.kind === "NetworkPolicy"))
      expect(
        matches((specOf(np)["podSelector"] as { matchLabels: Record<string, string> }).matchLabels),
        np.metadata.name,
      ).toBeGreaterThan(0);
    // The ServiceMonitor scrapes each node's headless Service (ready or not) and the edge's.
    const scraped = all().filter(
      (o) => o.kind === "Service" && o.metadata.labels?.["edgeledger.dev/scrape"] !== undefined,
    );
    expect(scraped.map((s) => s.metadata.name).sort()).toEqual([...NODES, "edge"].sort());
  });

  it("deploys as many validators as testnet wrote, with a drain budget to match (7 validators, no full nodes)", () => {
    const seven = writeTestNetwork(7, 0);
    const objects = kustomize(join(seven.deploy, "kubernetes/overlays/testnet"));
    // With no full nodes their overlay still renders: only its budget, selecting none.
    expect(
      kustomize(join(seven.deploy, "kubernetes/overlays/full-nodes")).map((o) => o.kind),
    ).toEqual(["PodDisruptionBudget"]);
    removeTestNetwork(seven);
    for (const obj of objects) validate(obj);
    const sets = objects.filter((o) => o.kind === "StatefulSet") as Workload[];
    expect(sets.map((s) => s.metadata.name).sort()).toEqual(
      Array.from({ length: 7 }, (_, i) => `validator-${i}`),
    );
    for (const s of sets)
      expect(s.spec.template.metadata.labels["app.kubernetes.io/component"]).toBe("validator");
    const budget = (name: string) =>
      (
        objects.find((o) => o.kind === "PodDisruptionBudget" && o.metadata.name === name) as
          | (KubeObject & { spec: { maxUnavailable: number } })
          | undefined
      )?.spec.maxUnavailable;
    // 7 = 3f + 1 with f = 2: two may be drained at once, where 4 allow one.
    expect(budget("validators")).toBe(2);
    expect(
      (specOfBudget(find("PodDisruptionBudget", "validators")) as { maxUnavailable: number })
        .maxUnavailable,
    ).toBe(1);
    // Every validator dials the other six at their pods' names.
    const config = objects.find((o) => o.metadata.name.startsWith("validator-6-config-")) as
      | (KubeObject & { data: Record<string, string> })
      | undefined;
    expect(JSON.parse(config!.data["config.json"]!).network.bootstrap).toHaveLength(6);
  });

  it("fails when a pod would get another genesis than testnet wrote (the check can fail)", () => {
    const file = join(net.network, "validator-2/genesis.json");
    const original = readFileSync(file, "utf8");
    writeFileSync(file, original.replace(/"chainId": "[^"]+"/, '"chainId": "another-chain"'));
    try {
      const cm = kustomize(join(net.deploy, "kubernetes/overlays/testnet")).find((o) =>
        o.metadata.name.startsWith("validator-2-config-"),
      ) as KubeObject & { data: Record<string, string> };
      expect(cm.data["genesis.json"]).not.toBe(homeFile(net, "validator-2", "genesis.json"));
    } finally {
      writeFileSync(file, original);
    }
  });
});
