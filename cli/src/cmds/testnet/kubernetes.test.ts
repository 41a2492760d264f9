/**
 * kubernetes.ts, without kubectl: a pod's config differs from its home's in
 * the addresses only, peers are dialed at their pods' DNS names, keys are
 * written 0600 and only as key files, and DIR is never overwritten. The
 * rendered manifests are tested in deploy/test/kubernetes.test.ts.
 */
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, testnet } from "@edgeledger/node";
import { describe, expect, it } from "vitest";
import {
  defaultKubernetesOptions,
  type HomeFiles,
  kubernetesFiles,
  podConfig,
  podDnsName,
  validatorsDownAllowed,
  writeKubernetes,
} from "./kubernetes.ts";

const o = { namespace: "ledger", clusterDomain: "example.internal" };
const validators = [
  { name: "validator-0", peerId: "12D3KooWA" },
  { name: "validator-1", peerId: "12D3KooWB" },
];

describe("testnet --kubernetes", () => {
  it("gives a pod its home's config with only the addresses changed", () => {
    const home = structuredClone(defaultConfig);
    home.mempool = { ...home.mempool, maxTxs: 7 };
    home.network.bootstrap = ["/ip4/127.0.0.1/tcp/9201/p2p/12D3KooWB"];
    const pod = podConfig(home, "validator-0", validators, o);
    expect(pod.api).toEqual({ ...home.api, host: "0.0.0.0", port: 8545 });
    expect(pod.network).toEqual({
      ...home.network,
      listen: ["/ip4/0.0.0.0/tcp/8645"],
      bootstrap: [
        "/dns4/validator-1-0.validator-1.ledger.svc.example.internal/tcp/8645/p2p/12D3KooWB",
      ],
    });
    expect({ ...pod, api: home.api, network: home.network }).toEqual(home);
    expect(podDnsName("full-0", defaultKubernetesOptions)).toBe(
      "full-0-0.full-0.edgeledger.svc.cluster.local",
    );
  });

  it("puts keys only in key files (0600), and a full node dials every validator", () => {
    const homes: HomeFiles[] = [...validators, { name: "full-0", peerId: "12D3KooWC" }].map(
      (v, i) => ({
        ...v,
        validator: i < 2,
        config: structuredClone(defaultConfig),
        genesis: "{}\n",
        validatorKey: `{"secretKey":"k${i}"}\n`,
        nodeKey: `{"peerKey":"p${i}"}\n`,
      }),
    );
    const files = kubernetesFiles(homes, { chainId: "c", genesisHash: "ab".repeat(32) }, o);
    for (const f of files) {
      const isKey = /(validator|node)_key\.json$/.test(f.path);
      expect(f.mode, f.path).toBe(isKey ? 0o600 : 0o644);
      if (!isKey) expect(f.text, f.path).not.toMatch(/secretKey|peerKey/);
    }
    const full = JSON.parse(files.find((f) => f.path === "full-0/config.json")!.text);
    expect(full.network.bootstrap).toHaveLength(2);
    expect(files.find((f) => f.path === "edge/edge.env")!.text).toBe(
      `CHAIN_ID=c\nGENESIS_HASH=${"ab".repeat(32)}\n`,
    );
  });

  it("lists as many validators and full nodes as testnet wrote, and budgets drains by the chain's tolerance", () => {
    const homes: HomeFiles[] = Array.from({ length: 9 }, (_, i) => ({
      name: i < 7 ? `validator-${i}` : `full-${i - 7}`,
      peerId: `12D3KooW${i}`,
      validator: i < 7,
      config: structuredClone(defaultConfig),
      genesis: "{}\n",
      validatorKey: "{}\n",
      nodeKey: "{}\n",
    }));
    const files = kubernetesFiles(homes, { chainId: "c", genesisHash: "ab".repeat(32) }, o);
    const text = (path: string) => files.find((f) => f.path === path)!.text;
    expect(text("validators/kustomization.yaml")).toContain(
      `resources: [${homes
        .slice(0, 7)
        .map((h) => h.name)
        .join(", ")}, pdb.yaml]`,
    );
    expect(text("full-nodes/kustomization.yaml")).toContain("resources: [full-0, full-1]");
    expect(text("validators/validator-6/kustomization.yaml")).toContain(
      "components: [../../validator-6]",
    );
    expect(text("full-nodes/full-1/kustomization.yaml")).toContain("components: [../../full-1]");
    expect(text("validators/pdb.yaml")).toMatch(/maxUnavailable: 2\n/);
    // n = 3f + 1 tolerates f down; below 4 none, so a drain waits rather than halt the chain.
    expect([1, 2, 3, 4, 5, 6, 7, 10, 100].map(validatorsDownAllowed)).toEqual([
      0, 0, 0, 1, 1, 1, 2, 3, 33,
    ]);
    const none = kubernetesFiles(homes.slice(0, 1), { chainId: "c", genesisHash: "ab" }, o);
    expect(none.find((f) => f.path === "full-nodes/kustomization.yaml")!.text).toContain(
      "resources: []",
    );
  });

  it("writes DIR from the homes testnet wrote, and refuses a DIR that exists", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-"));
    const r = await testnet({ validators: 1, out: join(dir, "homes"), basePort: 9100 });
    const written = writeKubernetes(join(dir, "k8s"), r.nodes, defaultKubernetesOptions);
    expect(written.map((f) => f.slice(dir.length + 5)).sort()).toEqual([
      "edge/edge.env",
      "edge/kustomization.yaml",
      "full-nodes/kustomization.yaml",
      "validator-0/config.json",
      "validator-0/genesis.json",
      "validator-0/kustomization.yaml",
      "validator-0/node_key.json",
      "validator-0/validator_key.json",
      "validators/kustomization.yaml",
      "validators/pdb.yaml",
      "validators/validator-0/kustomization.yaml",
    ]);
    expect(statSync(join(dir, "k8s/validator-0/validator_key.json")).mode & 0o777).toBe(0o600);
    expect(() => writeKubernetes(join(dir, "k8s"), r.nodes, defaultKubernetesOptions)).toThrow(
      /already exists/,
    );
  });
});
