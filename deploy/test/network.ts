/**
 * What the deploy tests share: a copy of deploy/ in a temporary folder with
 * a network written into it by the real CLI (`edgeledger testnet
 * --kubernetes`, as docs/deploy.md has a reader run it), and `kubectl
 * kustomize` over its overlays. Nothing is written into the checkout.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const CLI = join(ROOT, "cli/src/main.ts");

/** A rendered Kubernetes object, as far as the tests read it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export interface TestNetwork {
  /** The copy of deploy/ (kubernetes/, compose.yaml, Containerfile). */
  deploy: string;
  /** The homes `testnet` wrote (--out). */
  homes: string;
  /** deploy/kubernetes/network in the copy (--kubernetes). */
  network: string;
}

/** Runs the CLI (this Node, the checkout's sources); its stdout, or a thrown error with its stderr. */
export function edgeledger(args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
}

/**
 * deploy/ copied to a temporary folder (without a network of the checkout's
 * own), and the network of the overlays written into the copy as
 * docs/deploy.md does it: 4 validators, 2 full nodes by default.
 */
export function writeTestNetwork(validators = 4, fullNodes = 2): TestNetwork {
  const dir = mkdtempSync(join(tmpdir(), "deploy-"));
  const deploy = join(dir, "deploy");
  cpSync(join(ROOT, "deploy"), deploy, {
    recursive: true,
    filter: (src) => !src.includes("/kubernetes/network") && !src.includes("node_modules"),
  });
  const homes = join(dir, "homes");
  const network = join(deploy, "kubernetes/network");
  edgeledger([
    "testnet",
    "--validators",
    String(validators),
    "--full-nodes",
    String(fullNodes),
    "--out",
    homes,
    "--kubernetes",
    network,
  ]);
  return { deploy, homes, network };
}

/**
 * `kubectl kustomize DIR`, parsed. kubectl is required, never skipped: the
 * manifests are only known to render where it ran.
 */
export function kustomize(dir: string): KubeObject[] {
  const r = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT")
    throw new Error(
      "kubectl is not installed, and these tests render deploy/kubernetes with `kubectl kustomize`: install kubectl (https://kubernetes.io/docs/tasks/tools/) and run them again",
    );
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeObject);
}

/** Deletes what writeTestNetwork wrote (keys among it). */
export function removeTestNetwork(net: TestNetwork): void {
  rmSync(join(net.deploy, ".."), { recursive: true, force: true });
}

/** A file of a home as text. */
export const homeFile = (net: TestNetwork, node: string, file: string): string =>
  readFileSync(join(net.homes, node, file), "utf8");
