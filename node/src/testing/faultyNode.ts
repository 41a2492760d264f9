/**
 * The test-only build of a node: `edgeledger start` plus the fault injector
 * (faults.ts) reading the file named by EDGELEDGER_FAULTS. Only test/ and
 * the harness run it; nothing shipped imports it.
 *
 *   node node/src/testing/faultyNode.ts <home>
 */
import { resolve } from "node:path";
import { watchLifeline } from "@edgeledger/sdk/node";
import { pino } from "pino";
import { createNode } from "../node.ts";
import { FaultInjector } from "./faults.ts";

// Started by the harness: stop when it goes, however it goes.
watchLifeline();

const home = process.argv[2];
const file = process.env["EDGELEDGER_FAULTS"];
if (!home || !file) {
  console.error("usage: EDGELEDGER_FAULTS=<file> node faultyNode.ts <home>");
  process.exit(2);
}
const level = process.env["EDGELEDGER_LOG_LEVEL"] ?? "warn";
const logger = pino({ level, base: { service: "edgeledger-node", faulty: true } });
const node = createNode(resolve(home), { logger, hooks: new FaultInjector(file, logger).hooks() });
const { apiUrl } = await node.start();
console.log(`faulty test node; API ${apiUrl}`);
const stop = async () => {
  await node.stop();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
