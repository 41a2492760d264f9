/**
 * `edgeledger dev` (what `npm start` runs): the dev network of
 * dev/network.ts, its ports checked free first, each validator and an edge
 * worker a child process of this one (dev/localNetwork.ts) tied to it by a
 * lifeline (`watchLifeline`, @edgeledger/sdk/node), until Ctrl-C.
 */
import { join, resolve } from "node:path";
import { loadConfig, paths } from "@edgeledger/node";
import { devBanner } from "../../dev/banner.ts";
import { claimHome } from "../../dev/claimHome.ts";
import { httpReady, LocalNetwork, type LocalProcessSpec } from "../../dev/localNetwork.ts";
import {
  DEV_EDGE_PORT_OFFSET,
  type DevNetwork,
  devNetwork,
  validatorCount,
} from "../../dev/network.ts";
import { assertPortsFree, type PortUse } from "../../dev/ports.ts";
import { clientFor, trustOf } from "../../util/client.ts";
import type { DevArgs } from "./options.ts";

/** The CLI itself: `edgeledger dev` runs each validator as `node main.ts start`. */
const CLI = resolve(import.meta.dirname, "../../main.ts");

/**
 * `npm start`: a local dev network (see `devNetwork`), each validator a
 * child process serving the dev account's transfer route, until Ctrl-C.
 */
export async function devHandler(opts: DevArgs): Promise<void> {
  const net = await devNetwork(opts);
  const validators: LocalProcessSpec[] = net.validators.map((v) => ({
    name: v.name,
    url: v.apiUrl,
    command: process.execPath,
    args: [CLI, "start", "--home", v.home, "--dev-key", net.devKeyFile],
    logFile: join(v.home, "node.log"),
    ready: httpReady(`${v.apiUrl}/v1/status`),
  }));
  const processes = [...validators, devEdge(net)];
  const release = claimHome(net.home);
  try {
    // Before anything starts: a port held by an earlier run would answer
    // the readiness checks, and the banner would describe the old network.
    await assertPortsFree(portsOf(net, processes));
    console.log(
      `${net.created ? "created" : "continuing"} the dev network in ${net.home}; starting ${validatorCount(validators.length)} and an edge worker…`,
    );
    await LocalNetwork.run(processes, {
      onReady: async (local) =>
        console.log(
          await devBanner(net, local.processes, opts.home, clientFor({ home: net.home })),
        ),
    });
    console.log("stopped every validator and the edge worker");
  } finally {
    release();
  }
}

/**
 * The dev network's edge worker (`edgeledger edge`) in front of every
 * validator, trusting the genesis written on disk (never a node's word).
 * Ready once it serves a verified status.
 */
function devEdge(net: DevNetwork): LocalProcessSpec {
  const first = new URL(net.validators[0]!.apiUrl);
  const url = `http://${first.hostname}:${Number(first.port) + DEV_EDGE_PORT_OFFSET}`;
  return {
    name: "edge",
    url,
    command: process.execPath,
    args: [
      CLI,
      "edge",
      ...net.validators.flatMap((v) => ["--upstream", v.apiUrl]),
      "--chain-id",
      net.chainId,
      "--genesis-hash",
      trustOf(net.validators[0]!.home).genesisHash,
      "--host",
      first.hostname,
      "--port",
      String(Number(first.port) + DEV_EDGE_PORT_OFFSET),
    ],
    logFile: join(net.home, "edge.log"),
    ready: httpReady(`${url}/v1/status`),
  };
}

/** Every port the network will listen on: each validator's API and p2p, and the edge's. */
function portsOf(net: DevNetwork, processes: readonly LocalProcessSpec[]): PortUse[] {
  const uses: PortUse[] = processes.map((p) => {
    const u = new URL(p.url);
    return { host: u.hostname, port: Number(u.port), what: `${p.name} API` };
  });
  for (const v of net.validators) {
    for (const addr of loadConfig(paths(v.home).config).network.listen) {
      const m = /^\/ip[46]\/([^/]+)\/tcp\/([0-9]+)/.exec(addr);
      if (m && Number(m[2]) !== 0)
        uses.push({ host: m[1]!, port: Number(m[2]), what: `${v.name} p2p` });
    }
  }
  return uses;
}
