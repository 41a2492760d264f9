/**
 * A hostile HTTP client: the inputs it sends (built from a server's
 * /openapi.json, seeded so every run sends the same ones), how it sends
 * them (fetch for well-formed HTTP, node:net for bytes no HTTP client would
 * write), and the one check every answer must pass: a typed JSON error
 * `{ code, message, details }` with a status below 500.
 */
import { connect } from "node:net";
import fc from "fast-check";

/** One request, as data: the same one is sent to the node and to the edge. */
export interface HostileRequest {
  /** What the case plays, for failure messages. */
  readonly name: string;
  readonly method: string;
  /** The request target as sent, already percent-encoded (or not, on purpose). */
  readonly target: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

/** A response as read off the socket. */
export interface RawAnswer {
  /** null: the server closed without answering (nothing HTTP could be said). */
  readonly status: number | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A route of /openapi.json: its method and path pattern (`/v1/blocks/{id}`). */
export interface OpenApiRoute {
  readonly method: string;
  readonly path: string;
  readonly params: readonly string[];
  readonly query: readonly string[];
  readonly hasBody: boolean;
}

/** The routes an OpenAPI document lists. */
export function routesOf(doc: unknown): OpenApiRoute[] {
  const out: OpenApiRoute[] = [];
  const pathsObj = (doc as { paths: Record<string, Record<string, unknown>> }).paths;
  for (const [path, ops] of Object.entries(pathsObj)) {
    for (const [method, op] of Object.entries(ops)) {
      const parameters = ((op as { parameters?: { in: string; name: string }[] }).parameters ??
        []) as { in: string; name: string }[];
      out.push({
        method: method.toUpperCase(),
        path,
        params: parameters.filter((p) => p.in === "path").map((p) => p.name),
        query: parameters.filter((p) => p.in === "query").map((p) => p.name),
        hasBody: (op as { requestBody?: unknown }).requestBody !== undefined,
      });
    }
  }
  return out;
}

/** Path parameter values that pass no schema, or pass it and may fail deeper. */
const BAD_PARAMS: readonly string[] = [
  "%ff",
  "%",
  "%zz",
  "%c3%28",
  "%00",
  "x".repeat(300),
  "9".repeat(40),
  "9007199254740992",
  "18446744073709551616",
  "99999999",
  "-1",
  "1e3",
  "0x10",
  " 1",
  "A".repeat(64),
  "a".repeat(63),
  "a".repeat(65),
  "g".repeat(64),
  "%2e%2e",
  "%2F",
  "latest",
  "%C3%A9",
  // Bech32m with one character changed: a checksum that does not hold.
  "el1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
  "EL1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
];

/** Query strings for a route's optional query. */
const BAD_QUERIES: readonly string[] = [
  "height=abc",
  "height=1&height=2",
  "height[]=1",
  "height[a]=1",
  "height=",
  "height",
  "height=-1",
  "height=1e2",
  "height=%ff",
  "height=9007199254740993",
  "height=99999999",
  "unknown=1",
  "height=1&unknown=1",
  "%ff=1",
];

const MALFORMED_BODIES: readonly { name: string; body: string | Uint8Array }[] = [
  { name: "not JSON", body: "{" },
  { name: "empty", body: "" },
  { name: "a number", body: "1" },
  { name: "a string", body: '"x"' },
  { name: "null", body: "null" },
  { name: "an array", body: "[]" },
  { name: "an empty object", body: "{}" },
  { name: "tx is a number", body: '{"tx":1234}' },
  { name: "tx is null", body: '{"tx":null}' },
  { name: "tx is an array", body: '{"tx":["00"]}' },
  { name: "tx odd hex", body: '{"tx":"abc"}' },
  { name: "tx upper hex", body: '{"tx":"ABCD"}' },
  { name: "tx decodes to nothing", body: '{"tx":"00ff"}' },
  { name: "txs empty", body: '{"txs":[]}' },
  { name: "txs wrong type", body: '{"txs":"00"}' },
  { name: "txs of numbers", body: '{"txs":[1,2]}' },
  { name: "txs of bad hex", body: '{"txs":["zz"]}' },
  { name: "extra field", body: '{"tx":"00","txs":[],"to":"x","amount":"1","extra":1}' },
  { name: "amount beyond u128", body: `{"to":"el1x","amount":"${"9".repeat(60)}"}` },
  { name: "amount negative", body: '{"to":"el1x","amount":"-1"}' },
  { name: "proto pollution", body: '{"__proto__":{"tx":"00"},"constructor":{"prototype":{}}}' },
  { name: "duplicate keys", body: '{"tx":"00","tx":"0000"}' },
  { name: "deep nesting", body: `${"[".repeat(20_000)}${"]".repeat(20_000)}` },
  { name: "deep object", body: `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}` },
  {
    name: "invalid UTF-8",
    body: Uint8Array.from([0x7b, 0x22, 0x74, 0x78, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  },
  { name: "lone surrogate escape", body: '{"tx":"\\ud800"}' },
  { name: "BOM", body: '\ufeff{"tx":"00"}' },
];

/** Content types of a POST with a JSON-looking body. */
const CONTENT_TYPES: readonly (string | null)[] = [
  null,
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json-patch+json",
  "application/jsonx",
  "application/json; charset=latin1",
  "APPLICATION/JSON",
  "application/json;;;",
  "*/*",
];

const BAD_METHODS = ["PUT", "PATCH", "DELETE", "TRACE", "PROPFIND", "FOO"] as const;

/** A path pattern with each `{param}` replaced by `value` (already encoded). */
function fill(path: string, value: (name: string) => string): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => value(name));
}

/** A value of each param that a valid request would carry, so that other parts can be wrong alone. */
export type ValidParams = Readonly<Record<string, string>>;

/**
 * The hostile requests for `routes`, deterministic: fixed lists plus
 * `samples` strings per route that fast-check draws with `seed`.
 */
export function hostileRequests(
  routes: readonly OpenApiRoute[],
  valid: ValidParams,
  options: { seed: number; samples: number },
): HostileRequest[] {
  const out: HostileRequest[] = [];
  const random = fc.sample(fc.string({ unit: "binary", maxLength: 80 }), {
    seed: options.seed,
    numRuns: options.samples * routes.length,
  });
  let r = 0;
  for (const route of routes) {
    const good = fill(route.path, (n) => valid[n] ?? "1");
    const tag = `${route.method} ${route.path}`;
    for (const param of route.params) {
      for (const bad of BAD_PARAMS)
        out.push({
          name: `${tag} ${param}=${bad.slice(0, 20)}`,
          method: route.method,
          target: fill(route.path, (n) => (n === param ? bad : (valid[n] ?? "1"))),
        });
      for (let i = 0; i < options.samples; i++) {
        const text = random[r++] ?? "";
        out.push({
          name: `${tag} ${param}=<random ${i}>`,
          method: route.method,
          target: fill(route.path, (n) =>
            n === param ? encodeURIComponent(text) || "%20" : (valid[n] ?? "1"),
          ),
        });
      }
    }
    if (route.method === "GET") {
      for (const q of BAD_QUERIES)
        out.push({ name: `${tag} ?${q}`, method: "GET", target: `${good}?${q}` });
      out.push({ name: `${tag} dot segments`, method: "GET", target: `${good}/../status` });
      out.push({ name: `${tag} encoded dots`, method: "GET", target: `${good}/%2e%2e/status` });
      out.push({ name: `${tag} trailing slash`, method: "GET", target: `${good}/` });
      out.push({ name: `${tag} double slash`, method: "GET", target: good.replace("/", "//") });
    }
    if (route.hasBody) {
      for (const { name, body } of MALFORMED_BODIES)
        out.push({
          name: `${tag} body ${name}`,
          method: route.method,
          target: good,
          headers: { "content-type": "application/json" },
          body,
        });
      for (const type of CONTENT_TYPES)
        out.push({
          name: `${tag} content-type ${type}`,
          method: route.method,
          target: good,
          headers: type === null ? {} : { "content-type": type },
          body: '{"tx":"00"}',
        });
      out.push({
        name: `${tag} body over 2 MiB`,
        method: route.method,
        target: good,
        headers: { "content-type": "application/json" },
        body: `{"tx":"${"ab".repeat(1024 * 1024)}"}`,
      });
      out.push({
        name: `${tag} batch of 1001`,
        method: route.method,
        target: good,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ txs: Array.from({ length: 1001 }, () => "00") }),
      });
    }
    for (const method of BAD_METHODS)
      out.push({ name: `${tag} method ${method}`, method, target: good });
    out.push({ name: `${tag} preflight without headers`, method: "OPTIONS", target: good });
    out.push({
      name: `${tag} preflight with a bad method`,
      method: "OPTIONS",
      target: good,
      headers: { origin: "https://evil.example", "access-control-request-method": "DELETE" },
    });
    out.push({
      name: `${tag} preflight without origin`,
      method: "OPTIONS",
      target: good,
      headers: { "access-control-request-method": "POST" },
    });
  }
  out.push({ name: "CONNECT", method: "CONNECT", target: "127.0.0.1:1" });
  out.push({ name: "absolute-form", method: "GET", target: "http://evil.example/v1/status" });
  out.push({ name: "asterisk-form GET", method: "GET", target: "*" });
  return out;
}

/** The request as bytes on the wire. */
export function wireBytes(req: HostileRequest, host: string): Buffer {
  const body =
    req.body === undefined
      ? undefined
      : typeof req.body === "string"
        ? Buffer.from(req.body, "utf8")
        : Buffer.from(req.body);
  const lines = [`${req.method} ${req.target} HTTP/1.1`, `host: ${host}`, "connection: close"];
  for (const [k, v] of Object.entries(req.headers ?? {})) lines.push(`${k}: ${v}`);
  if (body !== undefined) lines.push(`content-length: ${body.length}`);
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return body === undefined ? head : Buffer.concat([head, body]);
}

/** Raw requests no HTTP client would write: each is sent as is on its own connection. */
export function malformedWire(
  host: string,
): { name: string; bytes: Buffer; halfClose?: boolean }[] {
  const b = (s: string) => Buffer.from(s, "latin1");
  const h = `host: ${host}\r\nconnection: close\r\n`;
  return [
    { name: "garbage request line", bytes: b("HELLO\r\n\r\n") },
    {
      name: "binary garbage",
      bytes: Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]),
    },
    // HTTP/0.9 is one line and then the client's end of the stream.
    { name: "HTTP/0.9", bytes: b("GET /v1/status\r\n"), halfClose: true },
    { name: "HTTP/2 preface", bytes: b("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") },
    { name: "unknown version", bytes: b(`GET /v1/status HTTP/9.9\r\n${h}\r\n`) },
    { name: "no host", bytes: b("GET /v1/status HTTP/1.1\r\nconnection: close\r\n\r\n") },
    { name: "header without colon", bytes: b(`GET /v1/status HTTP/1.1\r\n${h}oops\r\n\r\n`) },
    { name: "space before colon", bytes: b(`GET /v1/status HTTP/1.1\r\n${h}x-a : 1\r\n\r\n`) },
    {
      name: "control char in header",
      bytes: b(`GET /v1/status HTTP/1.1\r\n${h}x-a: a\x01b\r\n\r\n`),
    },
    {
      name: "oversized header",
      bytes: b(`GET /v1/status HTTP/1.1\r\n${h}x-big: ${"a".repeat(20_000)}\r\n\r\n`),
    },
    {
      name: "many headers",
      bytes: b(`GET /v1/status HTTP/1.1\r\n${h}${"x-a: 1\r\n".repeat(3000)}\r\n`),
    },
    {
      name: "bad content-length",
      bytes: b(
        `POST /v1/transactions HTTP/1.1\r\n${h}content-type: application/json\r\ncontent-length: abc\r\n\r\n{}`,
      ),
    },
    {
      name: "negative content-length",
      bytes: b(
        `POST /v1/transactions HTTP/1.1\r\n${h}content-type: application/json\r\ncontent-length: -1\r\n\r\n{}`,
      ),
    },
    {
      name: "two content-lengths",
      bytes: b(
        `POST /v1/transactions HTTP/1.1\r\n${h}content-type: application/json\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}`,
      ),
    },
    {
      name: "bad chunk size",
      bytes: b(
        `POST /v1/transactions HTTP/1.1\r\n${h}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      ),
    },
    {
      name: "chunk without terminator",
      bytes: b(
        `POST /v1/transactions HTTP/1.1\r\n${h}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n`,
      ),
    },
    {
      name: "unknown transfer-encoding",
      bytes: b(
        `POST /v1/transactions HTTP/1.1\r\n${h}content-type: application/json\r\ntransfer-encoding: gzip\r\n\r\n{}`,
      ),
    },
    {
      name: "CL and TE (smuggling)",
      bytes: b(
        `POST /v1/transactions HTTP/1.1\r\n${h}content-type: application/json\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/status HTTP/1.1\r\n${h}\r\n`,
      ),
    },
    {
      name: "obsolete line folding",
      bytes: b(`GET /v1/status HTTP/1.1\r\n${h}x-a: 1\r\n  folded\r\n\r\n`),
    },
    { name: "bare LF", bytes: b(`GET /v1/status HTTP/1.1\n${h}\n`) },
    { name: "space in target", bytes: b(`GET /v1/st atus HTTP/1.1\r\n${h}\r\n`) },
    {
      name: "non-ASCII target",
      bytes: Buffer.concat([
        b("GET /v1/"),
        Buffer.from([0xc3, 0xa9, 0xff]),
        b(` HTTP/1.1\r\n${h}\r\n`),
      ]),
    },
    { name: "CONNECT", bytes: b(`CONNECT 127.0.0.1:22 HTTP/1.1\r\n${h}\r\n`) },
  ];
}

/**
 * Sends `bytes` on a fresh connection and reads the answer until the server
 * closes or `timeoutMs` passes (then the client closes: a server waiting
 * for more bytes is not an answer, but not a failure either). The client
 * does not half-close: a FIN reads as "the client left" to some servers,
 * which then rightly drop the answer.
 */
export function sendRaw(
  url: string,
  bytes: Buffer,
  { timeoutMs = 5000, halfClose = false }: { timeoutMs?: number; halfClose?: boolean } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on("connect", () => (halfClose ? socket.end(bytes) : socket.write(bytes)));
    socket.on("data", (d) => chunks.push(d));
    // A reset after the answer is the server closing hard: the answer still counts.
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "ECONNRESET" && err.code !== "EPIPE") reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks)));
    });
  });
}

/** The first response in `data` (status, headers, body, de-chunked). */
export function parseAnswer(data: Buffer): RawAnswer {
  const text = data.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!m || end < 0) return { status: null, headers: {}, body: text };
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, end).split("\r\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = data.subarray(Buffer.byteLength(text.slice(0, end + 4), "latin1"));
  if (headers["transfer-encoding"]?.includes("chunked")) body = dechunk(body);
  else if (headers["content-length"] !== undefined)
    body = body.subarray(0, Number(headers["content-length"]));
  return { status: Number(m[1]), headers, body: body.toString("utf8") };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = Number.parseInt(data.subarray(at, eol).toString("latin1"), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * Why `answer` breaks the error contract, or null if it holds: any status
 * below 500, and an error status carries `{ code, message, details }` JSON.
 * A closed connection without a word is allowed only where `silentOk`.
 */
export function contractBreach(answer: RawAnswer, silentOk = false): string | null {
  if (answer.status === null)
    return silentOk ? null : `no HTTP answer (got ${JSON.stringify(answer.body.slice(0, 80))})`;
  if (answer.status >= 500) return `status ${answer.status}: ${answer.body.slice(0, 200)}`;
  if (answer.status < 400) return null;
  if (!(answer.headers["content-type"] ?? "").startsWith("application/json"))
    return `status ${answer.status} with content-type ${answer.headers["content-type"]}: ${answer.body.slice(0, 120)}`;
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return `status ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 120)}`;
  }
  const e = json as { code?: unknown; message?: unknown; details?: unknown };
  if (typeof e.code !== "string" || !/^[A-Z][A-Z0-9_]*$/.test(e.code))
    return `status ${answer.status} without a stable code: ${answer.body.slice(0, 200)}`;
  if (typeof e.message !== "string") return `status ${answer.status} without a message`;
  if (e.details === null || typeof e.details !== "object" || Array.isArray(e.details))
    return `status ${answer.status} without details: ${answer.body.slice(0, 200)}`;
  return null;
}

/** The error code of an answer, or null. */
export function codeOf(answer: RawAnswer): string | null {
  try {
    const code = (JSON.parse(answer.body) as { code?: unknown }).code;
    return typeof code === "string" ? code : null;
  } catch {
    return null;
  }
}

/** Runs `fn` on each item with at most `limit` at once, in order of results. */
export async function pooled<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}
