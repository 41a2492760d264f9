/**
 * The limits the node benches divide by, measured in the same run: native
 * Ed25519 verifies per second on one core of this machine. Measured around
 * each load step (before and after, the higher kept): a machine that slows
 * down during the run lowers both the load and one of the two samples, so
 * the ratio of a step to its reference cannot climb above what the node
 * really reached (issue 14; DESIGN.md, "Traps already found").
 */
import os from "node:os";
import { SecretKey } from "@edgeledger/sdk/protocol";
import { createNativeVerifier, nativeSigner } from "@edgeledger/sdk/protocol/node";

export const CORES = os.availableParallelism();

const key = SecretKey.generate();
const message = new Uint8Array(32).fill(7);
const signature = nativeSigner(key).signSync(message);
const verifier = createNativeVerifier();

/** Native verifies per second on this thread, over `ms` of wall time. */
export function nativeVerifyRate(ms = 1000): number {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    if (!verifier.verifySync!(signature, message, key.publicKey)) throw new Error("verify failed");
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** `work`, with the native verify rate measured just before and just after it; the higher is kept. */
export async function aroundStep<T>(
  work: () => Promise<T>,
): Promise<{ result: T; verifyRate: number }> {
  const before = nativeVerifyRate();
  const result = await work();
  const after = nativeVerifyRate();
  return { result, verifyRate: Math.max(before, after) };
}

/**
 * The signature bound of committed tx/s: each validator verifies every
 * transaction once, so one validator gets one core's rate and n validators
 * share all cores.
 */
export function signatureBound(verifyRate: number, validators: number): number {
  return validators === 1 ? verifyRate : (verifyRate * CORES) / validators;
}
