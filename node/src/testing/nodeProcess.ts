/**
 * A plain node as a process, for the harness (`startNode`) to kill -9 and
 * restart: createNode on a home until SIGINT or SIGTERM. What the operator
 * runs is `edgeledger start` (@edgeledger/cli); the node package sits below
 * the CLI, so its own tests run this instead.
 *
 *   node node/src/testing/nodeProcess.ts <home>
 */
import { resolve } from "node:path";
import { watchLifeline } from "@edgeledger/sdk/node";
import { createNode } from "../node.ts";

// Started by the harness: stop when it goes, however it goes (a crashed bench, a killed vitest).
watchLifeline();

const home = process.argv[2];
if (!home) {
  console.error("usage: node nodeProcess.ts <home>");
  process.exit(2);
}
const node = createNode(resolve(home));
const { apiUrl } = await node.start();
console.log(`test node (pid ${process.pid}); API ${apiUrl}`);
const stop = async () => {
  await node.stop();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
