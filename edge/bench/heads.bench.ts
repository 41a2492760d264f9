/**
 * The edge's GET /v1/heads, in process (no sockets: what is measured is the
 * relay, not the kernel), against fakes of the upstream and its verifier:
 *   - fan-out: head events delivered per second to N reading subscribers,
 *     against a bare loop that encodes each event once and enqueues it into
 *     N plain ReadableStreams, measured around the edge's run (target:
 *     ratio ≥ 0.3: the relay adds one verified read per head, not one per
 *     stream, and a height check per stream; 0.39 measured at load 3.8 on
 *     2 cores, where one look per stream per head had measured 0.16);
 *   - memory: N subscribers that never read, sent heads until every one is
 *     dropped: the peak of heap + buffers above idle against the bound the
 *     options promise, N × maxQueuedBytes (target: ≤ 1.5), and what is left
 *     once they are dropped. Streams share each head's encoded bytes, so
 *     the peak is far under the bound, which counts them per stream.
 *
 * Run: `node --expose-gc bench/heads.bench.ts` in edge/ (npm run bench does);
 * BENCH_QUICK=1 for a short run. Writes bench/out/heads.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import type { BlockHeader } from "@edgeledger/sdk/protocol";
import { createEdgeApp } from "../src/app.ts";
import { defaultHeadStreamOptions } from "../src/routes/heads.ts";
import type { AnswerVerifier, Verified } from "../src/upstream/verify.ts";

const QUICK = process.env["BENCH_QUICK"] === "1";
const SUBSCRIBERS = defaultHeadStreamOptions.maxSubscribers;
const HEADS = QUICK ? 50 : 200;
const OUT = resolve(import.meta.dirname, "out/heads.json");
/** About a 7-validator certificate's head event. */
const PAD = "ab".repeat(700);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("Run with node --expose-gc (npm run bench does).");
const memory = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const turn = () => new Promise<void>((r) => setImmediate(r));

const zero = new Uint8Array(32);
const header = (height: number): BlockHeader => ({
  chainId: "bench",
  height,
  time: Date.now(),
  parentHash: zero,
  txRoot: zero,
  txCount: 0,
  evidenceRoot: zero,
  stateRoot: zero,
  validatorsHash: zero,
  nextValidatorsHash: zero,
  proposer: zero,
});

function edge() {
  let push: ((h: BlockHeader) => void) | null = null;
  const ok = async (json: unknown): Promise<Verified> => {
    const height = (json as { height: number }).height;
    return { json, etag: `"h${height}"`, height, header: header(height), final: true };
  };
  const verifier: AnswerVerifier = {
    account: ok,
    block: ok,
    header: ok,
    transaction: ok,
    validators: ok,
    genesis: ok,
    headerAt: async (h) => header(h),
    watchHeads: (onHead) => {
      push = onHead;
      return () => undefined;
    },
  };
  const app = createEdgeApp({
    upstreams: ["http://upstream"],
    chainId: "bench",
    trust: { genesisHash: "ab".repeat(32) },
    rateLimit: false,
    explorer: false,
    headMode: "stream",
    verifierFor: () => verifier,
    fetch: async (input) => {
      const height = Number(String(input).split("/").at(-1));
      return Response.json({ height, pad: PAD });
    },
  });
  app.edge.start();
  return { app, push: (h: number) => push!(header(h)) };
}

/** Reads every stream to its end, counting chunks. */
function drain(readers: ReadableStreamDefaultReader<Uint8Array>[]): { readonly count: number } {
  const counter = { count: 0 };
  for (const r of readers)
    void (async () => {
      for (;;) {
        const { done } = await r.read().catch(() => ({ done: true }));
        if (done) return;
        counter.count++;
      }
    })();
  return counter;
}

async function fanOutEdge(): Promise<number> {
  const { app, push } = edge();
  await turn();
  push(1);
  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++)
    readers.push((await app.request("/v1/heads")).body!.getReader());
  // The first line and the current head, before the clock starts.
  const got = drain(readers);
  while (got.count < 2 * SUBSCRIBERS) await turn();
  const start = performance.now();
  for (let h = 2; h <= HEADS + 1; h++) {
    push(h);
    await turn();
  }
  while (got.count < (HEADS + 2) * SUBSCRIBERS) await turn();
  const seconds = (performance.now() - start) / 1000;
  app.edge.stop();
  return Math.round((HEADS * SUBSCRIBERS) / seconds);
}

async function fanOutBare(): Promise<number> {
  const encoder = new TextEncoder();
  const controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
  const readers = Array.from({ length: SUBSCRIBERS }, () =>
    new ReadableStream<Uint8Array>({ start: (c) => void controllers.push(c) }).getReader(),
  );
  const got = drain(readers);
  const start = performance.now();
  for (let h = 2; h <= HEADS + 1; h++) {
    // Encoded once, the same bytes to every stream: the least a relay can do.
    const data = JSON.stringify({ height: h, pad: PAD });
    const event = encoder.encode(`event: head\ndata: ${data}\n\n`);
    for (const c of controllers) c.enqueue(event);
    await turn();
  }
  while (got.count < HEADS * SUBSCRIBERS) await turn();
  const seconds = (performance.now() - start) / 1000;
  for (const c of controllers) c.close();
  return Math.round((HEADS * SUBSCRIBERS) / seconds);
}

async function stalled() {
  const { app, push } = edge();
  await turn();
  const idle = memory();
  const held: Response[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) held.push(await app.request("/v1/heads"));
  const open = memory();
  let h = 0;
  let peak = 0;
  while (app.edge.headStreams!.size > 0) {
    push(++h);
    await turn();
    peak = Math.max(peak, memory());
  }
  const after = memory();
  app.edge.stop();
  return {
    perIdleStreamKiB: +((open - idle) / SUBSCRIBERS / 1024).toFixed(1),
    peakMiB: +((peak - idle) / 2 ** 20).toFixed(1),
    boundMiB: +((SUBSCRIBERS * defaultHeadStreamOptions.maxQueuedBytes) / 2 ** 20).toFixed(1),
    afterDropMiB: +((after - idle) / 2 ** 20).toFixed(1),
    headsUntilAllDropped: h,
    dropped: app.edge.metrics.get("head_streams_dropped_total"),
    held: held.length,
  };
}

const load = os.loadavg()[0]!.toFixed(2);
// Memory first, from a clean heap; then bare, edge, bare: the reference is
// measured around the edge's run.
const mem = await stalled();
const bareBefore = await fanOutBare();
const edgeRate = await fanOutEdge();
const bareAfter = await fanOutBare();
const bare = Math.max(bareBefore, bareAfter);
const result = {
  quick: QUICK,
  loadAverage1m: Number(load),
  cores: os.cpus().length,
  subscribers: SUBSCRIBERS,
  heads: HEADS,
  fanOut: {
    edgeEventsPerSecond: edgeRate,
    bareEventsPerSecond: bare,
    ratio: +(edgeRate / bare).toFixed(2),
    meetsTarget: edgeRate / bare >= 0.3,
  },
  memory: {
    ...mem,
    ratio: +(mem.peakMiB / mem.boundMiB).toFixed(2),
    meetsTarget: mem.peakMiB / mem.boundMiB <= 1.5,
  },
};
mkdirSync(resolve(import.meta.dirname, "out"), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
console.log(`
edge heads stream, ${SUBSCRIBERS} subscribers, in process (load ${load} on ${result.cores} cores)
  fan-out   edge ${edgeRate} events/s  bare ${bare}/s  ratio ${result.fanOut.ratio}  (target ≥ 0.3)
  memory    ${SUBSCRIBERS} stalled: peak ${mem.peakMiB} MiB above idle, bound ${mem.boundMiB} MiB, ratio ${result.memory.ratio} (target ≤ 1.5); ${mem.afterDropMiB} MiB after all ${mem.dropped} dropped; ${mem.perIdleStreamKiB} KiB per idle stream
wrote ${OUT}`);
