/**
 * The canonical binary codec: every value has exactly one encoding.
 *
 * Integers are fixed-width big-endian (so there is no non-minimal form),
 * variable-length fields carry a u32 length and a declared maximum, structs
 * are their fields in a fixed order, and unions a one-byte tag. Each decoder
 * is the exact inverse of its encoder, so it accepts only bytes that
 * re-encode to themselves (the property tests check this) and throws a typed
 * `DecodeError` for anything else (truncation, trailing bytes, out-of-range
 * values, unknown tags, unsorted sets). Decoding is bounded by
 * the caller's `maxBytes` and by each list's declared maximum, so hostile
 * input cannot make us allocate more than it sent.
 *
 * Long on purpose: every combinator of the one canonical encoding, in one
 * file, so its exactly-one-encoding property is checked and read in one
 * place.
 */
import { DecodeError, EncodeError } from "../../errors/protocol.ts";
import { compareBytes } from "../bytes.ts";

export interface Codec<T> {
  /** Used in error messages: which field failed. */
  readonly name: string;
  write(w: Writer, value: T): void;
  read(r: Reader): T;
}

export type CodecValue<C> = C extends Codec<infer T> ? T : never;

export class Writer {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(initialCapacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  #reserve(n: number): number {
    const need = this.#len + n;
    if (need > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    const at = this.#len;
    this.#len = need;
    return at;
  }

  // Reserve first, then read #view/#buf: reserving may replace them.
  u8(v: number): void {
    const at = this.#reserve(1);
    this.#view.setUint8(at, v);
  }
  u16(v: number): void {
    const at = this.#reserve(2);
    this.#view.setUint16(at, v);
  }
  u32(v: number): void {
    const at = this.#reserve(4);
    this.#view.setUint32(at, v);
  }
  u64(v: bigint): void {
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, v);
  }
  bytes(b: Uint8Array): void {
    const at = this.#reserve(b.length);
    this.#buf.set(b, at);
  }
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

export class Reader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(buf: Uint8Array) {
    // A plain Uint8Array view even of a subclass (node's Buffer, whose slice()
    // does not copy), so that bytes() returns plain, independent copies.
    this.#buf = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  #take(n: number, what: string): number {
    if (n > this.remaining) {
      throw new DecodeError("DECODE_TRUNCATED", `Input ended inside ${what}.`, {
        details: { needed: n, remaining: this.remaining, offset: this.#pos },
      });
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(what: string): number {
    return this.#view.getUint8(this.#take(1, what));
  }
  u16(what: string): number {
    return this.#view.getUint16(this.#take(2, what));
  }
  u32(what: string): number {
    return this.#view.getUint32(this.#take(4, what));
  }
  u64(what: string): bigint {
    return this.#view.getBigUint64(this.#take(8, what));
  }
  /** Copies, so decoded values never alias (and never pin) the input buffer. */
  bytes(n: number, what: string): Uint8Array {
    const at = this.#take(n, what);
    return this.#buf.slice(at, at + n);
  }

  /** Bytes read so far. */
  get position(): number {
    return this.#pos;
  }

  /** A copy of input bytes [from, to) already read (see `memoized`). */
  copyOf(from: number, to: number): Uint8Array {
    return this.#buf.slice(from, to);
  }
}

export interface DecodeOptions {
  /** Upper bound on the input size; checked before any parsing. */
  maxBytes?: number;
}

export function encode<T>(codec: Codec<T>, value: T): Uint8Array {
  const w = new Writer();
  codec.write(w, value);
  return w.finish();
}

export function decode<T>(codec: Codec<T>, bytes: Uint8Array, options: DecodeOptions = {}): T {
  if (!(bytes instanceof Uint8Array)) {
    throw new DecodeError("DECODE_OUT_OF_RANGE", `Expected bytes for ${codec.name}.`);
  }
  if (options.maxBytes !== undefined && bytes.length > options.maxBytes) {
    throw new DecodeError("DECODE_TOO_LARGE", `${codec.name} is larger than allowed.`, {
      details: { size: bytes.length, max: options.maxBytes },
    });
  }
  const r = new Reader(bytes);
  const value = codec.read(r);
  if (r.remaining !== 0) {
    throw new DecodeError("DECODE_TRAILING_BYTES", `Unexpected bytes after ${codec.name}.`, {
      details: { trailing: r.remaining },
    });
  }
  return value;
}

function invalid(name: string, why: string, details?: Record<string, unknown>): never {
  throw new EncodeError(`Cannot encode ${name}: ${why}.`, details ? { details } : {});
}

function outOfRange(name: string, why: string): never {
  throw new DecodeError("DECODE_OUT_OF_RANGE", `${name} ${why}.`);
}

function uintNumber(name: string, bits: 8 | 16 | 32): Codec<number> {
  const max = 2 ** bits - 1;
  return {
    name,
    write(w, v) {
      if (!Number.isInteger(v) || v < 0 || v > max)
        invalid(name, `expected an integer in 0..${max}`);
      if (bits === 8) w.u8(v);
      else if (bits === 16) w.u16(v);
      else w.u32(v);
    },
    read(r) {
      return bits === 8 ? r.u8(name) : bits === 16 ? r.u16(name) : r.u32(name);
    },
  };
}

export const u8 = (name: string): Codec<number> => uintNumber(name, 8);
export const u16 = (name: string): Codec<number> => uintNumber(name, 16);
export const u32 = (name: string): Codec<number> => uintNumber(name, 32);

/**
 * A u64 on the wire held as a JS number: heights, times, nonces. Values above
 * 2^53 - 1 are out of range (a number could not hold them exactly), so the
 * decoder rejects them rather than round.
 */
export function u64Number(name: string): Codec<number> {
  return {
    name,
    write(w, v) {
      if (!Number.isSafeInteger(v) || v < 0) invalid(name, "expected a safe non-negative integer");
      w.u64(BigInt(v));
    },
    read(r) {
      const v = r.u64(name);
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) outOfRange(name, "exceeds 2^53 - 1");
      return Number(v);
    },
  };
}

/** Unsigned big integer of `bytes` width, held as bigint: amounts, balances, power. */
export function uintBig(name: string, bytes: 8 | 16): Codec<bigint> {
  const max = (1n << BigInt(bytes * 8)) - 1n;
  return {
    name,
    write(w, v) {
      if (typeof v !== "bigint" || v < 0n || v > max)
        invalid(name, `expected a bigint in 0..2^${bytes * 8}-1`);
      if (bytes === 16) w.u64(v >> 64n);
      w.u64(v & 0xffff_ffff_ffff_ffffn);
    },
    read(r) {
      if (bytes === 8) return r.u64(name);
      const hi = r.u64(name);
      return (hi << 64n) | r.u64(name);
    },
  };
}

export function fixedBytes(name: string, length: number): Codec<Uint8Array> {
  return {
    name,
    write(w, v) {
      if (!(v instanceof Uint8Array) || v.length !== length) {
        invalid(name, `expected ${length} bytes`, {
          got: v instanceof Uint8Array ? v.length : typeof v,
        });
      }
      w.bytes(v);
    },
    read(r) {
      return r.bytes(length, name);
    },
  };
}

export function varBytes(name: string, maxLength: number): Codec<Uint8Array> {
  return {
    name,
    write(w, v) {
      if (!(v instanceof Uint8Array) || v.length > maxLength)
        invalid(name, `expected at most ${maxLength} bytes`);
      w.u32(v.length);
      w.bytes(v);
    },
    read(r) {
      const n = r.u32(`${name} length`);
      if (n > maxLength) outOfRange(name, `length ${n} exceeds ${maxLength}`);
      return r.bytes(n, name);
    },
  };
}

/** A short ASCII identifier (u8 length), restricted to `pattern` so it has one spelling. */
export function asciiString(name: string, pattern: RegExp, maxLength: number): Codec<string> {
  const check = (s: string) => s.length >= 1 && s.length <= maxLength && pattern.test(s);
  return {
    name,
    write(w, v) {
      if (typeof v !== "string" || !check(v))
        invalid(name, `expected 1..${maxLength} chars matching ${pattern}`);
      w.u8(v.length);
      for (let i = 0; i < v.length; i++) w.u8(v.charCodeAt(i));
    },
    read(r) {
      const n = r.u8(`${name} length`);
      const raw = r.bytes(n, name);
      const s = String.fromCharCode(...raw);
      if (!check(s)) outOfRange(name, `must be 1..${maxLength} chars matching ${pattern}`);
      return s;
    },
  };
}

/** A one-byte enumeration over string literals; unknown bytes are rejected. */
export function enumeration<const V extends readonly string[]>(
  name: string,
  values: V,
): Codec<V[number]> {
  return {
    name,
    write(w, v) {
      const i = values.indexOf(v);
      if (i < 0) invalid(name, `expected one of ${values.join(", ")}`);
      w.u8(i);
    },
    read(r) {
      const i = r.u8(name);
      const v = values[i];
      if (v === undefined) throw new DecodeError("DECODE_UNKNOWN_KIND", `Unknown ${name} ${i}.`);
      return v;
    },
  };
}

export function optional<T>(inner: Codec<T>): Codec<T | null> {
  return {
    name: inner.name,
    write(w, v) {
      if (v === null) w.u8(0);
      else {
        w.u8(1);
        inner.write(w, v);
      }
    },
    read(r) {
      const flag = r.u8(`${inner.name} presence`);
      if (flag === 0) return null;
      if (flag !== 1)
        throw new DecodeError(
          "DECODE_NON_CANONICAL",
          `${inner.name} presence flag must be 0 or 1.`,
        );
      return inner.read(r);
    },
  };
}

export function list<T>(name: string, item: Codec<T>, maxItems: number): Codec<readonly T[]> {
  return {
    name,
    write(w, v) {
      if (!Array.isArray(v) || v.length > maxItems)
        invalid(name, `expected at most ${maxItems} items`);
      w.u32(v.length);
      for (const x of v) item.write(w, x);
    },
    read(r) {
      const n = r.u32(`${name} count`);
      if (n > maxItems) outOfRange(name, `has ${n} items, more than ${maxItems}`);
      // Each item takes at least one byte: a count beyond the remaining input is
      // truncation, found before we allocate for it.
      if (n > r.remaining) {
        throw new DecodeError("DECODE_TRUNCATED", `${name} claims ${n} items but the input ended.`);
      }
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(item.read(r));
      return out;
    },
  };
}

/**
 * Remembers the exact bytes each decoded value was read from, so encoding
 * that same value again (to hash it, to gossip it, to put it in a block)
 * writes a copy of them instead of encoding it anew. Safe because protocol
 * values are immutable (readonly types; changing one means building a new
 * object, which has no entry), and because decoding only accepts the one
 * canonical encoding, so the bytes read are the bytes `write` would produce.
 */
export function memoized<T extends object>(inner: Codec<T>): Codec<T> {
  const known = new WeakMap<T, Uint8Array>();
  return {
    name: inner.name,
    write(w, v) {
      const bytes = known.get(v);
      if (bytes) w.bytes(bytes);
      else inner.write(w, v);
    },
    read(r) {
      const start = r.position;
      const v = inner.read(r);
      known.set(v, r.copyOf(start, r.position));
      return v;
    },
  };
}

/**
 * A list whose items must be strictly ascending by `key` (so: sorted and with
 * no duplicates). Sets are encoded this way to have one encoding.
 */
export function sortedSet<T>(
  name: string,
  item: Codec<T>,
  maxItems: number,
  key: (x: T) => Uint8Array | number,
): Codec<readonly T[]> {
  const inner = list(name, item, maxItems);
  const ascending = (v: readonly T[]) => {
    for (let i = 1; i < v.length; i++) {
      const a = key(v[i - 1]!);
      const b = key(v[i]!);
      const cmp = typeof a === "number" ? a - (b as number) : compareBytes(a, b as Uint8Array);
      if (cmp >= 0) return false;
    }
    return true;
  };
  return {
    name,
    write(w, v) {
      if (!ascending(v)) invalid(name, "items must be strictly ascending (sorted, no duplicates)");
      inner.write(w, v);
    },
    read(r) {
      const v = inner.read(r);
      if (!ascending(v)) {
        throw new DecodeError(
          "DECODE_NON_CANONICAL",
          `${name} must be strictly ascending (sorted, no duplicates).`,
        );
      }
      return v;
    },
  };
}

type FieldCodecs<T> = { readonly [K in keyof T]: Codec<T[K]> };

/**
 * Fields in a fixed order. Only the listed keys are written, so extra
 * properties on a value never change its encoding.
 */
export function struct<T extends object>(name: string, fields: FieldCodecs<T>): Codec<T> {
  const entries = Object.entries(fields) as [keyof T & string, Codec<unknown>][];
  return {
    name,
    write(w, v) {
      if (typeof v !== "object" || v === null) invalid(name, "expected an object");
      for (const [k, c] of entries) c.write(w, v[k]);
    },
    read(r) {
      const out: Record<string, unknown> = {};
      for (const [k, c] of entries) out[k] = c.read(r);
      return out as T;
    },
  };
}

/** A leading version byte; other versions are rejected, not guessed at. */
export function versioned<T>(version: number, inner: Codec<T>): Codec<T> {
  return {
    name: inner.name,
    write(w, v) {
      w.u8(version);
      inner.write(w, v);
    },
    read(r) {
      const got = r.u8(`${inner.name} version`);
      if (got !== version) {
        throw new DecodeError(
          "DECODE_UNKNOWN_VERSION",
          `Unsupported ${inner.name} version ${got}.`,
          {
            details: { supported: version },
          },
        );
      }
      return inner.read(r);
    },
  };
}

type Variants = {
  readonly [kind: string]: { readonly tag: number; readonly codec: Codec<object> };
};
type UnionValue<V extends Variants> = {
  [K in keyof V]: { kind: K } & CodecValue<V[K]["codec"]>;
}[keyof V];

/** A tagged union over `{ kind }` objects: one tag byte, then that variant's struct. */
export function taggedUnion<const V extends Variants>(
  name: string,
  variants: V,
): Codec<UnionValue<V>> {
  const byTag = new Map<number, [string, Codec<object>]>();
  for (const [kind, { tag, codec }] of Object.entries(variants)) byTag.set(tag, [kind, codec]);
  return {
    name,
    write(w, v) {
      const variant = variants[v.kind as string];
      if (!variant) invalid(name, `unknown kind ${String(v.kind)}`);
      w.u8(variant.tag);
      variant.codec.write(w, v);
    },
    read(r) {
      const tag = r.u8(`${name} kind`);
      const entry = byTag.get(tag);
      if (!entry) throw new DecodeError("DECODE_UNKNOWN_KIND", `Unknown ${name} kind ${tag}.`);
      const [kind, codec] = entry;
      return { kind, ...codec.read(r) } as UnionValue<V>;
    },
  };
}

/**
 * Adds a semantic check to a codec, enforced both ways: encoding an invalid
 * value is an EncodeError, decoding one a DecodeError (DECODE_OUT_OF_RANGE).
 */
export function refine<T>(inner: Codec<T>, check: (v: T) => string | null): Codec<T> {
  return {
    name: inner.name,
    write(w, v) {
      const problem = check(v);
      if (problem) invalid(inner.name, problem);
      inner.write(w, v);
    },
    read(r) {
      const v = inner.read(r);
      const problem = check(v);
      if (problem) outOfRange(inner.name, problem);
      return v;
    },
  };
}
