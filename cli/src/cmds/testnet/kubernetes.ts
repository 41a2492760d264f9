/**
 * `edgeledger testnet --kubernetes DIR`: the network that `testnet` just
 * wrote, as the inputs of deploy/kubernetes/'s overlays. One folder per node
 * (a Kustomize Component: its config and genesis become a ConfigMap, its
 * two keys a Secret, and it names the StatefulSet of deploy/kubernetes/base
 * after the node), `validators/` and `full-nodes/` (the lists of those
 * nodes that deploy/kubernetes/overlays include, so the overlays deploy as
 * many nodes as `testnet` wrote, and the validators' PodDisruptionBudget
 * allows as many down as the chain tolerates), and `edge/` (the chain id and
 * genesis hash the edges trust). deploy/compose.yaml runs the same files.
 *
 * DIR is deploy/kubernetes/network: the lists name deploy/kubernetes/base
 * as `../../../base` from each node's entry, and the overlays name DIR as
 * `../../network`.
 *
 * Each node's config is the one in its home with only the addresses
 * changed: a pod listens on 0.0.0.0 at fixed ports (each pod has its own
 * IP), and dials the validators at the stable DNS names of their
 * StatefulSet pods. Keys go only into Secrets, never a ConfigMap.
 *
 * Pure (`kubernetesFiles`) apart from reading the homes and writing DIR.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ConfigError, type NodeConfig, paths, type TestnetNode } from "@edgeledger/node";
import { hasQuorum } from "@edgeledger/sdk/protocol";
import { trustOf } from "../../util/client.ts";

/** The ports every pod uses (the node's API and p2p; the edge's HTTP). */
export const POD_PORTS = { api: 8545, p2p: 8645, edge: 8600 } as const;

export interface KubernetesOptions {
  /** The namespace the overlays deploy to (their `namespace:`): part of each peer's DNS name. */
  namespace: string;
  /** The cluster's DNS domain (kubelet's clusterDomain). */
  clusterDomain: string;
}

export const defaultKubernetesOptions: KubernetesOptions = {
  namespace: "edgeledger",
  clusterDomain: "cluster.local",
};

/** One node as `testnet` wrote it: its name (the home's folder name), peer id, and files. */
export interface HomeFiles {
  name: string;
  peerId: string;
  validator: boolean;
  config: NodeConfig;
  genesis: string;
  validatorKey: string;
  nodeKey: string;
}

/** A file to write under DIR: its path there, its text, and its mode. */
export interface OutFile {
  path: string;
  text: string;
  mode: number;
}

/**
 * The DNS name of node `name`'s pod: a StatefulSet `name` of one replica
 * whose headless Service is also `name` (deploy/kubernetes/base/node).
 */
export function podDnsName(name: string, o: KubernetesOptions): string {
  return `${name}-0.${name}.${o.namespace}.svc.${o.clusterDomain}`;
}

/** A home's config with the addresses a pod needs; every other key as `testnet` wrote it. */
export function podConfig(
  config: NodeConfig,
  self: string,
  validators: readonly Pick<HomeFiles, "name" | "peerId">[],
  o: KubernetesOptions,
): NodeConfig {
  return {
    ...config,
    api: { ...config.api, host: "0.0.0.0", port: POD_PORTS.api },
    network: {
      ...config.network,
      listen: [`/ip4/0.0.0.0/tcp/${POD_PORTS.p2p}`],
      bootstrap: validators
        .filter((v) => v.name !== self)
        .map((v) => `/dns4/${podDnsName(v.name, o)}/tcp/${POD_PORTS.p2p}/p2p/${v.peerId}`),
    },
  };
}

/** The Component that turns one node's folder into its ConfigMap, Secret and StatefulSet name. */
function nodeComponent(name: string, validator: boolean): string {
  return `# Written by \`edgeledger testnet --kubernetes\`: ${name}, a ${validator ? "validator" : "full node"}.
# Included by its folder in deploy/kubernetes/overlays, on top of deploy/kubernetes/base/node.
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
configMapGenerator:
  - name: ${name}-config
    files: [config.json, genesis.json]
secretGenerator:
  - name: ${name}-keys
    files: [validator_key.json, node_key.json]
labels:
  - pairs:
      edgeledger.dev/node: ${name}
    includeSelectors: true
  - pairs:
      app.kubernetes.io/component: ${validator ? "validator" : "full-node"}
    includeSelectors: false
    includeTemplates: true
patches:
  - target: { kind: StatefulSet|Service, name: node }
    patch: |-
      - op: replace
        path: /metadata/name
        value: ${name}
  - target: { kind: StatefulSet, name: node }
    patch: |-
      - op: replace
        path: /spec/serviceName
        value: ${name}
  - target: { kind: StatefulSet, name: node }
    patch: |-
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: node
      spec:
        template:
          spec:
            volumes:
              - name: config
                configMap:
                  name: ${name}-config
              - name: keys
                secret:
                  secretName: ${name}-keys
`;
}

const EDGE_COMPONENT = `# Written by \`edgeledger testnet --kubernetes\`: what the edges trust (edge.env).
# Included by deploy/kubernetes/overlays/edges, on top of deploy/kubernetes/base/edge.
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
configMapGenerator:
  - name: edge-trust
    envs: [edge.env]
`;

/**
 * How many of `n` equal-power validators may be down while the rest still
 * commit (testnet gives each power 1): f of n = 3f + 1. 0 below 4, where a
 * drain must wait for a validator to come back rather than halt the chain.
 */
export function validatorsDownAllowed(n: number): number {
  let down = 0;
  while (down < n && hasQuorum(BigInt(n - down - 1), BigInt(n))) down++;
  return down;
}

/**
 * One kind of node's list (validators/ or full-nodes/): a Kustomization of
 * one entry per node, each base/node with that node's Component (and for
 * the validators, their PodDisruptionBudget).
 */
function nodeList(
  kind: "validators" | "full-nodes",
  names: readonly string[],
  more: readonly string[] = [],
): OutFile[] {
  const what = kind === "validators" ? "validator" : "full node";
  const list = `# Written by \`edgeledger testnet --kubernetes\`: the ${names.length} ${what}s it wrote.
# Included by deploy/kubernetes/overlays/${kind}.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [${[...names, ...more].join(", ")}]
`;
  return [
    { path: `${kind}/kustomization.yaml`, text: list, mode: 0o644 },
    ...names.map((name) => ({
      path: `${kind}/${name}/kustomization.yaml`,
      text: `# Written by \`edgeledger testnet --kubernetes\`: ${name}, a ${what}: base/node, named and configured by its Component.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../../base/node]
components: [../../${name}]
`,
      mode: 0o644,
    })),
  ];
}

/** The validators' PodDisruptionBudget: a drain takes down no more than the chain tolerates. */
function validatorsBudget(n: number): OutFile {
  const down = validatorsDownAllowed(n);
  const why =
    down === 0
      ? `# ${n} validator(s) of power 1 commit only with all of them: a drain must wait
# for each to come back (maxUnavailable 0), or the chain halts.`
      : `# ${n} validators of power 1 commit while ${n - down} vote (more than two thirds):
# a drain may take ${down} at a time, never ${down + 1} (that would halt the chain until one came back).`;
  return {
    path: "validators/pdb.yaml",
    text: `# Written by \`edgeledger testnet --kubernetes\`.
${why}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: validators
spec:
  maxUnavailable: ${down}
  selector:
    matchLabels:
      app.kubernetes.io/name: edgeledger-node
      app.kubernetes.io/component: validator
`,
    mode: 0o644,
  };
}

/**
 * Every file of DIR for the nodes of one `testnet` run: per node its pod
 * config, the genesis, its keys (mode 0600) and its Component; `edge/` with
 * the chain id and genesis hash; the validators' and full nodes' lists.
 */
export function kubernetesFiles(
  homes: readonly HomeFiles[],
  trust: { chainId: string; genesisHash: string },
  o: KubernetesOptions,
): OutFile[] {
  const validators = homes.filter((h) => h.validator);
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  const nodeFiles = homes.flatMap((h) => [
    {
      path: `${h.name}/config.json`,
      text: json(podConfig(h.config, h.name, validators, o)),
      mode: 0o644,
    },
    { path: `${h.name}/genesis.json`, text: h.genesis, mode: 0o644 },
    { path: `${h.name}/validator_key.json`, text: h.validatorKey, mode: 0o600 },
    { path: `${h.name}/node_key.json`, text: h.nodeKey, mode: 0o600 },
    { path: `${h.name}/kustomization.yaml`, text: nodeComponent(h.name, h.validator), mode: 0o644 },
  ]);
  const validatorNames = validators.map((h) => h.name);
  return [
    ...nodeFiles,
    ...nodeList("validators", validatorNames, ["pdb.yaml"]),
    validatorsBudget(validatorNames.length),
    ...nodeList(
      "full-nodes",
      homes.filter((h) => !h.validator).map((h) => h.name),
    ),
    {
      path: "edge/edge.env",
      text: `CHAIN_ID=${trust.chainId}\nGENESIS_HASH=${trust.genesisHash}\n`,
      mode: 0o644,
    },
    { path: "edge/kustomization.yaml", text: EDGE_COMPONENT, mode: 0o644 },
  ];
}

/** Reads what `testnet` wrote into each home. */
export function readHomes(nodes: readonly TestnetNode[]): HomeFiles[] {
  return nodes.map((n) => {
    const p = paths(n.home);
    return {
      name: basename(n.home),
      peerId: n.peerId,
      validator: n.validator,
      config: JSON.parse(readFileSync(p.config, "utf8")) as NodeConfig,
      genesis: readFileSync(p.genesis, "utf8"),
      validatorKey: readFileSync(p.validatorKey, "utf8"),
      nodeKey: readFileSync(p.nodeKey, "utf8"),
    };
  });
}

/** Writes DIR (which must not exist, like `--out`) for the network whose nodes `testnet` wrote. */
export function writeKubernetes(
  dir: string,
  nodes: readonly TestnetNode[],
  o: KubernetesOptions,
): string[] {
  const out = resolve(dir);
  if (existsSync(out))
    throw ConfigError.invalid(
      out,
      "(kubernetes)",
      "already exists",
      "choose a new --kubernetes folder",
    );
  const homes = readHomes(nodes);
  const files = kubernetesFiles(homes, trustOf(nodes[0]!.home), o);
  for (const f of files) {
    const file = join(out, f.path);
    mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
    writeFileSync(file, f.text, { mode: f.mode, flag: "wx" });
  }
  return files.map((f) => join(out, f.path));
}
