/**
 * Reading a server's answer with its size bounded before it is read: a
 * hostile node, edge or upstream can send a body without end (or a
 * `content-length` it does not keep to), and `res.json()` would buffer all
 * of it. `fetch` and streams only, so it runs in browsers, workers, workerd
 * and Node; the edge reads its upstreams' answers with it too.
 */
import { TransportError } from "../../errors/client.ts";

/**
 * The largest answer the API gives is a block at MAX_BLOCK_BYTES (4 MiB)
 * as JSON: its transactions in hex (×2) with their field names, under
 * 16 MiB. Twice that leaves room, and refuses a body without end.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** One server-sent event (a head is a certified header: tens of KiB with 256 validators). */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

export function tooLarge(limit: number, details: Record<string, unknown> = {}): TransportError {
  return new TransportError(
    "TRANSPORT_TOO_LARGE",
    `The server's answer is larger than the ${limit} bytes allowed.`,
    { details: { ...details, limit } },
  );
}

/**
 * The body of `res` as text, refused with TRANSPORT_TOO_LARGE (and the
 * rest of it cancelled, not read) once it passes `maxBytes`: by its
 * content-length before anything is read, or by what arrives.
 */
export async function readBoundedText(
  res: Response,
  maxBytes: number,
  details: Record<string, unknown> = {},
): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(maxBytes, details);
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(maxBytes, details);
      }
      parts.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** The body of `res` parsed as JSON, bounded as readBoundedText; a SyntaxError if it is not JSON. */
export async function readBoundedJson(
  res: Response,
  maxBytes: number,
  details: Record<string, unknown> = {},
): Promise<unknown> {
  return JSON.parse(await readBoundedText(res, maxBytes, details));
}
