/**
 * Worker-thread side of the verifier pool (node.ts). Receives packed
 * (signature, 32-byte digest, public key) triples, checks each under the
 * edgeledger rule with native Ed25519, and answers one byte per triple.
 */
import { parentPort } from "node:worker_threads";
import { nativeBackend } from "./node.ts";
import { createVerifier } from "./signatures/backend.ts";

const verifier = createVerifier(nativeBackend());
const verify = verifier.verifySync!;

parentPort?.on("message", (job: { id: number; packed: Uint8Array; count: number }) => {
  const { id, packed, count } = job;
  const results = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * 128;
    const signature = packed.subarray(at, at + 64);
    const digest = packed.subarray(at + 64, at + 96);
    const publicKey = packed.subarray(at + 96, at + 128);
    results[i] = verify(signature, digest, publicKey) ? 1 : 0;
  }
  parentPort?.postMessage({ id, results }, [results.buffer]);
});
