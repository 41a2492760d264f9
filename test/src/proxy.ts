/**
 * Proxies the scenarios put in front of nodes: they count what is asked and
 * break answers on demand (tamper with a proof or a block, change a readable
 * field, change any one leaf of the JSON (leafMutations.ts), answer with
 * something that is not JSON, drop the connection, hold the answer, or any
 * edit a test gives).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export type FaultKind =
  /** Flip a byte of the answer's proof (account state proof, transaction Merkle proof). */
  | "tamper-proof"
  /** Flip a byte of a block's canonical encoding. */
  | "tamper-block"
  /** Change a readable field (a block's first transfer amount), leaving the bytes alone. */
  | "tamper-readable"
  /** Drop the connection without an answer. */
  | "down"
  /** Hold the answer for `delayMs`, then pass it on. */
  | "delay"
  /** Change the answer with the fault's `mutate` (one leaf mutation, see leafMutations.ts). */
  | "mutate"
  /** Answer 200 with a body that is not JSON. */
  | "not-json";

export interface Fault {
  /** Which requests (path and query) it applies to. */
  readonly match: (path: string) => boolean;
  readonly kind: FaultKind;
  /** How many requests it applies to, across every proxy sharing it; then it is spent. */
  budget: number;
  readonly delayMs?: number;
  /** For "mutate": the answer to send instead of the upstream's (JSON in, JSON out). */
  readonly mutate?: (body: unknown) => unknown;
}

/**
 * Faults shared by several proxies: the first proxy asked for a matching
 * path takes the fault, whichever the edge happens to ask first, so a test
 * does not depend on the edge's upstream order.
 */
export class FaultPlan {
  #faults: Fault[] = [];

  add(fault: Fault): Fault {
    this.#faults.push(fault);
    return fault;
  }

  clear(): void {
    this.#faults = [];
  }

  take(path: string): Fault | undefined {
    const fault = this.#faults.find((f) => f.budget > 0 && f.match(path));
    if (fault) fault.budget--;
    return fault;
  }
}

/** Flips one hex digit in the middle of `hex`. */
export function flip(hex: string): string {
  const i = Math.floor(hex.length / 2);
  return hex.slice(0, i) + (hex[i] === "0" ? "1" : "0") + hex.slice(i + 1);
}

function tamper(fault: Fault, body: Record<string, unknown>): unknown {
  switch (fault.kind) {
    case "mutate":
      return fault.mutate ? fault.mutate(body) : body;
    case "tamper-proof":
      return { ...body, proof: flip(body["proof"] as string) };
    case "tamper-block":
      return { ...body, blockBytes: flip(body["blockBytes"] as string) };
    case "tamper-readable": {
      const txs = body["txs"] as { body: Record<string, unknown> }[];
      return {
        ...body,
        txs: txs.map((t, i) => (i === 0 ? { ...t, body: { ...t.body, amount: "999999" } } : t)),
      };
    }
    default:
      return body;
  }
}

export interface UpstreamProxy {
  readonly url: string;
  /** Every request forwarded or refused, as path and query. */
  readonly requests: string[];
  /** How many requests for exactly `path` (with its query) it has seen. */
  count(path: string): number;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Each Server-Sent Event's data (one JSON line) → the data to send instead. */
  readonly editEvent?: (data: string) => string;
}

/**
 * An HTTP proxy in front of `target` (a node) that applies `faults`, and
 * `edit` (path, JSON body → the body to send instead) to every successful
 * JSON answer, and `editEvent` to every event of a stream.
 */
export async function upstreamProxy(
  target: string,
  faults: FaultPlan = new FaultPlan(),
  edit?: (path: string, body: Record<string, unknown>) => unknown,
  options: ProxyOptions = {},
): Promise<UpstreamProxy> {
  const requests: string[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "/";
    requests.push(path);
    const fault = faults.take(path);
    if (fault?.kind === "down") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "delay") await new Promise((r) => setTimeout(r, fault.delayMs ?? 200));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const upstream = await fetch(target + path, {
      method: req.method ?? "GET",
      headers: { "content-type": "application/json", accept: String(req.headers.accept ?? "") },
      ...(chunks.length > 0 && { body: Buffer.concat(chunks) }),
    });
    if (String(upstream.headers.get("content-type")).startsWith("text/event-stream")) {
      // Streams pass through as they come.
      res.writeHead(upstream.status, { "content-type": "text/event-stream" });
      const reader = upstream.body!.pipeThrough(new TextDecoderStream()).getReader();
      res.on("close", () => void reader.cancel().catch(() => undefined));
      const { editEvent } = options;
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) break;
        if (!editEvent) {
          res.write(value);
          continue;
        }
        // Whole events only (they end with a blank line), each data line edited.
        buffer += value;
        const end = buffer.lastIndexOf("\n\n");
        if (end < 0) continue;
        const events = buffer.slice(0, end + 2);
        buffer = buffer.slice(end + 2);
        res.write(
          events.replace(/^data: (.*)$/gm, (_, data: string) => `data: ${editEvent(data)}`),
        );
      }
      res.end();
      return;
    }
    const type = upstream.headers.get("content-type") ?? "";
    if (/^text\/(html|javascript|css)/.test(type) && fault === undefined) {
      // Pages and scripts (the explorer's, served by an edge) pass as they are, with their type.
      res.writeHead(upstream.status, { "content-type": type }).end(await upstream.text());
      return;
    }
    let text = await upstream.text();
    if (fault?.kind === "not-json" && upstream.ok) text = "<html>not the answer</html>";
    else if (fault && upstream.ok) text = JSON.stringify(tamper(fault, JSON.parse(text)));
    if (edit && upstream.ok) text = JSON.stringify(edit(path, JSON.parse(text)));
    const headers: Record<string, string> = { "content-type": "application/json" };
    const location = upstream.headers.get("location");
    if (location) headers["location"] = location;
    res.writeHead(upstream.status, headers).end(text);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (path) => requests.filter((p) => p === path).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
