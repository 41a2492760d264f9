/**
 * The signature-verification workload and the timing loop of the protocol benchmark, shared by
 * the main thread (single-core figures) and by the worker threads started for the all-cores
 * figures, so both measure exactly the same code.
 *
 * Started as a worker it reads a `VerifyJob` from `workerData`, warms up, posts "ready", waits for
 * the main thread's "go" (so all workers measure the same window), then posts its rate.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import {
  createVerifier,
  nobleBackend,
  type SignatureVerifier,
  webCryptoBackend,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";

/** Ops completed in a measured window. */
export interface Rate {
  readonly ops: number;
  readonly seconds: number;
}

/** An operation to repeat: `i` counts calls, so workloads can cycle through a pool. */
export type Workload =
  | { readonly kind: "sync"; readonly op: (i: number) => void }
  | {
      readonly kind: "async";
      readonly op: (i: number) => Promise<void>;
      /** Calls kept in flight at once (1 = strictly one after another). */
      readonly concurrency: number;
    };

export type VerifyBackendName = "native" | "noble" | "webcrypto";

/** One pre-signed (publicKey, message, signature) triple. */
export interface SignedSample {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

export interface VerifyJob {
  readonly backend: VerifyBackendName;
  readonly pool: readonly SignedSample[];
  /** For the async (WebCrypto) backend: verifications kept in flight. */
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly windowMs: number;
}

export type WorkerMessage =
  | { readonly type: "ready" }
  | { readonly type: "done"; readonly ops: number; readonly seconds: number };

/** Runs `work` for about `ms` milliseconds; returns how many calls completed, and in how long. */
export async function runFor(work: Workload, ms: number): Promise<Rate> {
  const start = performance.now();
  const end = start + ms;
  if (work.kind === "sync") {
    // Calls go in batches that grow until one takes about a millisecond, so reading the
    // clock costs nothing measurable even for sub-microsecond operations.
    const { op } = work;
    let ops = 0;
    let batch = 1;
    let now = start;
    while (now < end) {
      for (let k = 0; k < batch; k++) op(ops + k);
      ops += batch;
      const t = performance.now();
      if (t - now < 1 && batch < 1 << 20) batch *= 2;
      now = t;
    }
    return { ops, seconds: (now - start) / 1000 };
  }
  const { op, concurrency } = work;
  let started = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() < end) await op(started++);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { ops: started, seconds: (performance.now() - start) / 1000 };
}

/** Warms up (JIT, caches), then measures one window. */
export async function measure(work: Workload, warmupMs: number, windowMs: number): Promise<Rate> {
  await runFor(work, warmupMs);
  return runFor(work, windowMs);
}

function verifierFor(backend: VerifyBackendName): SignatureVerifier {
  switch (backend) {
    case "native":
      return createNativeVerifier();
    case "noble":
      return createVerifier(nobleBackend);
    case "webcrypto":
      return createVerifier(webCryptoBackend());
  }
}

/**
 * Verifies the pool's signatures round-robin: synchronously where the verifier can (native,
 * noble), otherwise `inFlight` async verifications at a time. Throws if one does not verify.
 */
export function verifyWorkload(
  backend: VerifyBackendName,
  pool: readonly SignedSample[],
  inFlight: number,
): Workload {
  const verifier = verifierFor(backend);
  const check = (ok: boolean): void => {
    if (!ok) throw new Error(`${backend}: a valid signature did not verify`);
  };
  const { verifySync } = verifier;
  if (verifySync) {
    return {
      kind: "sync",
      op: (i) => {
        const s = pool[i % pool.length]!;
        check(verifySync(s.signature, s.message, s.publicKey));
      },
    };
  }
  return {
    kind: "async",
    concurrency: inFlight,
    op: async (i) => {
      const s = pool[i % pool.length]!;
      check(await verifier.verify(s.signature, s.message, s.publicKey));
    },
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const job = workerData as VerifyJob;
  const work = verifyWorkload(job.backend, job.pool, job.inFlight);
  await runFor(work, job.warmupMs);
  port.once("message", async () => {
    const rate = await runFor(work, job.windowMs);
    const done: WorkerMessage = { type: "done", ...rate };
    port.postMessage(done);
  });
  const ready: WorkerMessage = { type: "ready" };
  port.postMessage(ready);
}
