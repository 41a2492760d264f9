/**
 * The worker thread of chunkVerifier.ts: verifies each chunk it is sent
 * and answers with its packed nodes or its error. The hash backend is per
 * thread: the native one, as on the node's own thread.
 */
import { parentPort } from "node:worker_threads";
import { useNativeSha256 } from "@edgeledger/sdk/protocol/node";
import { type VerifyRequest, verifyRequest } from "./chunkVerifier.ts";

useNativeSha256();
parentPort?.on("message", (request: VerifyRequest) => {
  const reply = verifyRequest(request);
  parentPort?.postMessage(reply, "packed" in reply ? [reply.packed.buffer as ArrayBuffer] : []);
});
