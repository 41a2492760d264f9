/**
 * `edgeledger testnet`'s options: how many nodes, where their homes go,
 * their ports and address, the genesis upgrades; and where to write the same
 * network for deploy/kubernetes (and compose), with the namespace it goes to.
 */
import { count, port, upgrade } from "../../options/parsers.ts";
import type { CliOptions } from "../../util/command.ts";
import { defaultKubernetesOptions } from "./kubernetes.ts";

export interface TestnetArgs {
  validators: number;
  fullNodes?: number;
  out: string;
  basePort: number;
  host: string;
  upgrades?: { height: number; version: number }[];
  /** Also write the network as deploy/kubernetes's inputs here (kubernetes.ts). */
  kubernetes?: string;
  namespace: string;
  clusterDomain: string;
}

export const testnetOptions: CliOptions<TestnetArgs> = {
  validators: {
    flags: "--validators <n>",
    description: "how many validators",
    parse: count(1, 64),
    required: true,
  },
  fullNodes: {
    flags: "--full-nodes <n>",
    description: "how many non-validating full nodes besides",
    parse: count(0, 64),
  },
  out: {
    flags: "--out <dir>",
    description: "folder for the homes (must not exist)",
    required: true,
  },
  basePort: {
    flags: "--base-port <port>",
    description: "API ports from here, p2p ports from here + 100",
    parse: port,
    default: 9100,
  },
  host: {
    flags: "--host <ip>",
    description: "address every node listens on and is dialed at",
    default: "127.0.0.1",
  },
  upgrades: {
    flags: "--upgrade <height:version>",
    description: "blocks from HEIGHT carry protocol VERSION (repeatable; genesis upgrades)",
    parse: upgrade,
  },
  kubernetes: {
    flags: "--kubernetes <dir>",
    description:
      "also write the network for deploy/kubernetes and deploy/compose.yaml here (must not exist): per node its config with in-cluster addresses, genesis and keys, as Kustomize generator inputs (docs/deploy.md)",
  },
  namespace: {
    flags: "--namespace <ns>",
    description:
      "with --kubernetes: the namespace the overlays deploy to (part of each peer's DNS name)",
    default: defaultKubernetesOptions.namespace,
  },
  clusterDomain: {
    flags: "--cluster-domain <domain>",
    description: "with --kubernetes: the cluster's DNS domain",
    default: defaultKubernetesOptions.clusterDomain,
  },
};
