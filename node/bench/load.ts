/**
 * The load side of the node bench: signed transfers from the bench's
 * senders, submitted over HTTP in batches at a paced offered rate, and the
 * commit side followed on the heads stream (committed count per step; the
 * submit → final time of the transactions in a sample of blocks, or of
 * every block while one transfer at a time is timed on an idle network).
 */
import { Agent, request } from "node:http";
import type { BlockJson, StatusJson } from "@edgeledger/sdk/api";
import {
  encodeSignedTransaction,
  type SecretKey,
  toHex,
  transactionHash,
} from "@edgeledger/sdk/protocol";
import { nativeSigner } from "@edgeledger/sdk/protocol/node";
import { api, sleep } from "../src/testing/harness.ts";

/** Requests in flight, and most transactions per request (paced: a batch holds what is due). */
const IN_FLIGHT = 8;
const BATCH = 200;
/** A refused batch is offered again after this long (ms), until this long past the step's offers. */
const RETRY_MS = 100;
const RETRY_FOR_MS = 20_000;
/** One block in this many is fetched to time its transactions (all would load the node with reads). */
const LATENCY_SAMPLE = 4;

export interface SignedTx {
  readonly hash: string;
  readonly hex: string;
}

export interface StepResult {
  offered: number;
  submitted: number;
  rejected: number;
  /** Transactions committed from the step's start until its drain ended. */
  committed: number;
  committedPerSec: number;
  p50ms: number;
  p99ms: number;
  /** Native verifies/s on one core around this step (the higher of before and after). */
  verifyRate: number;
  /** committedPerSec ÷ the signature bound from verifyRate. */
  ratio: number;
  /** Transactions still pending from earlier steps when this one began (its figures then mix in theirs). */
  backlogAtStart: number;
  /** Where the step's heights spent their time: mean ms per phase over the validators' heights (phaseMeans). */
  phases?: Record<string, { meanMs: number; count: number }>;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Signs transfers for each sender in nonce order, from nonce 0 (senders are funded in genesis). */
export class Transfers {
  readonly #chainId: string;
  readonly #senders: readonly SecretKey[];
  readonly #nonces: number[];
  readonly #signers: ReturnType<typeof nativeSigner>[];
  #next = 0;

  constructor(chainId: string, senders: readonly SecretKey[]) {
    this.#chainId = chainId;
    this.#senders = senders;
    this.#nonces = senders.map(() => 0);
    this.#signers = senders.map((s) => nativeSigner(s));
  }

  /** The next transfer of 1 to `to`, from the senders in turn. */
  sign(to: Uint8Array): SignedTx {
    const i = this.#next++ % this.#senders.length;
    const tx = {
      chainId: this.#chainId,
      from: this.#senders[i]!.publicKey,
      nonce: this.#nonces[i]!++,
      expiresAt: Date.now() + 30 * 60_000,
      body: { kind: "transfer" as const, to, amount: 1n },
    };
    const hash = transactionHash(tx);
    return {
      hash: toHex(hash),
      hex: toHex(encodeSignedTransaction({ tx, signature: this.#signers[i]!.signSync(hash) })),
    };
  }
}

/** Batches to the submit URLs in turn over node:http keep-alive (fetch costs the client several times more). */
export class Submitter {
  readonly #urls: readonly URL[];
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 32 });
  #via = 0;

  constructor(urls: readonly string[]) {
    this.#urls = urls.map((u) => new URL(u));
  }

  /** Resolves to how many of `txs` were admitted, and those refused (e.g. MEMPOOL_FULL: the node sheds). */
  submit(txs: readonly SignedTx[]): Promise<{ admitted: number; refused: SignedTx[] }> {
    const target = this.#urls[this.#via++ % this.#urls.length]!;
    const body = JSON.stringify({ txs: txs.map((t) => t.hex) });
    return new Promise((done, fail) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: "/v1/transactions/batch",
          method: "POST",
          agent: this.#agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (text += d));
          res.on("end", () => {
            if (res.statusCode !== 200) return done({ admitted: 0, refused: [...txs] });
            const { results } = JSON.parse(text) as { results: { hash?: string }[] };
            const refused = txs.filter((_, i) => !results[i]?.hash);
            done({ admitted: txs.length - refused.length, refused });
          });
        },
      );
      req.on("error", fail);
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * Follows one node's heads stream: counts committed transactions, and times
 * the submitted ones found in sampled blocks (every block when `sampleAll`)
 * by when their head arrived.
 */
export class HeadFollower {
  readonly #url: string;
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;
  readonly submittedAt = new Map<string, number>();
  readonly latencies: number[] = [];
  /** Committed transactions since the last reset, and since the start. */
  committed = 0;
  committedTotal = 0;
  sampleAll = false;

  constructor(url: string) {
    this.#url = url;
    this.#done = this.#follow().catch(() => undefined);
  }

  reset(): void {
    this.submittedAt.clear();
    this.latencies.length = 0;
    this.committed = 0;
  }

  async #follow(): Promise<void> {
    const res = await fetch(`${this.#url}/v1/heads`, { signal: this.#abort.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      for (let at = buf.indexOf("\n\n"); at >= 0; at = buf.indexOf("\n\n")) {
        const frame = buf.slice(0, at);
        buf = buf.slice(at + 2);
        const data = frame.split("\n").find((l) => l.startsWith("data: "));
        if (data) this.#onHead(data.slice(6), performance.now());
      }
    }
  }

  #onHead(data: string, now: number): void {
    const { header } = JSON.parse(data) as { header: { height: number; txCount: number } };
    this.committed += header.txCount;
    this.committedTotal += header.txCount;
    if (header.txCount === 0 || (!this.sampleAll && header.height % LATENCY_SAMPLE !== 0)) return;
    void api<BlockJson>(`${this.#url}/v1/blocks/${header.height}`).then(({ body }) => {
      for (const tx of body.txs) {
        const t = this.submittedAt.get(tx.hash);
        if (t !== undefined) this.latencies.push(now - t);
      }
    });
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }
}

/**
 * Offers `txs` at `rate` per second (batches of what is due, at most
 * IN_FLIGHT requests open), then waits (bounded) for what was admitted to
 * commit. Committed/s counts from the first submission to the last commit.
 * A refused batch is offered again every RETRY_MS, as a client told
 * MEMPOOL_FULL would (a sender's later nonces wait behind it), for up to
 * RETRY_FOR_MS past the step's offers; what is still refused then goes into
 * `refused`, for resubmit before the next step.
 */
export async function runStep(
  rate: number,
  txs: readonly SignedTx[],
  submitter: Submitter,
  follower: HeadFollower,
  drainMs = 10_000,
  refused: SignedTx[] = [],
): Promise<Omit<StepResult, "verifyRate" | "ratio" | "backlogAtStart">> {
  follower.reset();
  let submitted = 0;
  let rejected = 0;
  const total = txs.length;
  const start = performance.now();
  // A client told MEMPOOL_FULL tries the same transaction again a moment later
  // (its later nonces wait behind it), for as long as a patient client would.
  const retryUntil = start + (total / rate) * 1000 + RETRY_FOR_MS;
  const retries: { batch: SignedTx[]; at: number }[] = [];
  let next = 0;
  let inFlight = 0;
  await new Promise<void>((done) => {
    const finished = () => next >= total && inFlight === 0 && retries.length === 0;
    const send = (batch: SignedTx[]) => {
      inFlight++;
      const at = performance.now();
      // Latency counts from the first offer, as its client sees it.
      for (const t of batch)
        if (!follower.submittedAt.has(t.hash)) follower.submittedAt.set(t.hash, at);
      const refusedNow = (list: SignedTx[]) => {
        rejected += list.length;
        if (list.length === 0) return;
        if (performance.now() < retryUntil)
          retries.push({ batch: list, at: performance.now() + RETRY_MS });
        else refused.push(...list);
      };
      void submitter
        .submit(batch)
        .then(
          (answer) => {
            submitted += answer.admitted;
            refusedNow(answer.refused);
          },
          () => refusedNow(batch),
        )
        .finally(() => {
          inFlight--;
          if (finished()) done();
        });
    };
    const pump = () => {
      const now = performance.now();
      while (inFlight < IN_FLIGHT && retries.length > 0 && retries[0]!.at <= now)
        send(retries.shift()!.batch);
      const due = Math.min(total, Math.floor(((now - start) / 1000) * rate));
      while (next < due && inFlight < IN_FLIGHT) {
        const batch = txs.slice(next, Math.min(due, next + BATCH));
        next += batch.length;
        send(batch);
      }
      if (!finished()) setTimeout(pump, 1);
    };
    pump();
  });
  const drainUntil = performance.now() + drainMs;
  while (follower.committed < submitted && performance.now() < drainUntil) await sleep(50);
  const seconds = (performance.now() - start) / 1000;
  const sorted = [...follower.latencies].sort((a, b) => a - b);
  return {
    offered: rate,
    submitted,
    rejected,
    committed: follower.committed,
    committedPerSec: follower.committed / seconds,
    p50ms: percentile(sorted, 50),
    p99ms: percentile(sorted, 99),
  };
}

/**
 * Offers refused transactions again until every one is admitted (bounded):
 * the senders' later nonces wait behind them, so without this the next step
 * would start on a pool that cannot empty. Paced by the node's refusals.
 */
export async function resubmit(
  txs: readonly SignedTx[],
  submitter: Submitter,
  timeoutMs = 120_000,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  let left = [...txs];
  while (left.length > 0) {
    if (performance.now() > until) throw new Error(`${left.length} refused transfers not admitted`);
    const batch = left.slice(0, BATCH);
    const { refused } = await submitter.submit(batch).catch(() => ({ refused: batch }));
    left = [...refused, ...left.slice(BATCH)];
    if (refused.length > 0) await sleep(200);
  }
}

/**
 * Waits (bounded) until the node's mempool is empty, so the next step starts
 * from rest: commits of an earlier step's backlog would count as this
 * step's. Returns what was still pending when the wait ended (0: at rest).
 */
export async function waitForEmptyPool(url: string, timeoutMs = 120_000): Promise<number> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const size = (await api<StatusJson>(`${url}/v1/status`)).body.mempool.size;
    if (size === 0 || performance.now() > until) return size;
    await sleep(100);
  }
}

/**
 * Submit → final of single transfers on an otherwise idle network: one at a
 * time, each waited for before the next is sent. Returns the times in ms.
 */
export async function idleLatencies(
  samples: number,
  next: () => SignedTx,
  submitter: Submitter,
  follower: HeadFollower,
): Promise<number[]> {
  follower.reset();
  follower.sampleAll = true;
  try {
    for (let i = 0; i < samples; i++) {
      const tx = next();
      follower.submittedAt.set(tx.hash, performance.now());
      if ((await submitter.submit([tx])).admitted !== 1) throw new Error("idle transfer refused");
      const until = performance.now() + 10_000;
      while (follower.latencies.length <= i) {
        if (performance.now() > until) throw new Error("idle transfer not final within 10 s");
        await sleep(2);
      }
    }
  } finally {
    follower.sampleAll = false;
  }
  return [...follower.latencies];
}

/** Per-phase sums and counts of the consensus phase and compact rebuild histograms, over nodes. */
export type PhaseTotals = Map<string, { sum: number; count: number }>;

const PHASE_LINE =
  /^edgeledger_(consensus_phase|compact_rebuild)_seconds_(sum|count)\{(?:phase|outcome)="([a-z]+)"\} ([0-9.e+-]+)$/;

/** Reads the phase histograms of every node's /metrics, summed over nodes. */
export async function phaseTotals(urls: readonly string[]): Promise<PhaseTotals> {
  const totals: PhaseTotals = new Map();
  for (const url of urls) {
    const res = await fetch(`${url}/metrics`);
    for (const line of (await res.text()).split("\n")) {
      const m = PHASE_LINE.exec(line);
      if (!m) continue;
      const key = m[1] === "compact_rebuild" ? `rebuild:${m[3]}` : m[3]!;
      const t = totals.get(key) ?? { sum: 0, count: 0 };
      if (m[2] === "sum") t.sum += Number(m[4]);
      else t.count += Number(m[4]);
      totals.set(key, t);
    }
  }
  return totals;
}

/** Mean ms per sample of each phase between two readings, and how many samples (heights × nodes). */
export function phaseMeans(
  before: PhaseTotals,
  after: PhaseTotals,
): Record<string, { meanMs: number; count: number }> {
  const out: Record<string, { meanMs: number; count: number }> = {};
  for (const [key, a] of after) {
    const b = before.get(key) ?? { sum: 0, count: 0 };
    const count = a.count - b.count;
    if (count > 0) out[key] = { meanMs: ((a.sum - b.sum) / count) * 1000, count };
  }
  return out;
}
