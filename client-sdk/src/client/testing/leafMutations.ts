/**
 * Every way a lying server might change one field of a JSON answer, for
 * tamper tests: the answer is walked generically, and each leaf gets the
 * same-type changes (a hex digit flipped, a number ±1, a decimal string
 * ±1, another string), the type changes (number → string, string →
 * number, → null, → an object), and deletion; each object gets an unknown
 * field, each array a duplicated and a dropped element, and the whole
 * answer is replaced by JSON of another type. Deterministic: the same
 * answer gives the same list in the same order.
 *
 * Test-only, dependency-free, so the SDK's unit tests and test/'s network
 * scenarios (test/src/proxy.ts) walk answers the same way.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface LeafMutation {
  /** Where, e.g. `block.certificate.signatures[1].signature`; "" is the answer itself. */
  readonly path: string;
  /** What was done there, e.g. `flip-hex`, `+1`, `delete`. */
  readonly kind: string;
  /** The answer with this one change (a fresh copy; `answer` is untouched). */
  apply(answer: Json): Json;
}

type Step = string | number;

const HEX = /^[0-9a-f]+$/;
const DECIMAL = /^-?[0-9]+$/;

function describe(path: readonly Step[]): string {
  return path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

function clone(value: Json): Json {
  return structuredClone(value);
}

/** Replaces (or, with `remove`, deletes) the value at `path` in a copy of `root`. */
function edit(
  root: Json,
  path: readonly Step[],
  change: (old: Json) => Json | typeof REMOVE,
): Json {
  if (path.length === 0) {
    const next = change(root);
    return next === REMOVE ? null : next;
  }
  const copy = clone(root);
  let parent = copy as Record<Step, Json>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<Step, Json>;
  const last = path[path.length - 1]!;
  const next = change(parent[last]!);
  if (next === REMOVE) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = next;
  return copy;
}

const REMOVE = Symbol("remove");

/** Flips the hex digit at `at` (from the middle by default: both halves of a field matter). */
export function flipHex(hex: string, at = Math.floor(hex.length / 2)): string {
  return hex.slice(0, at) + (hex[at] === "0" ? "1" : "0") + hex.slice(at + 1);
}

function leafChanges(value: Json): [kind: string, change: (old: Json) => Json][] {
  const out: [string, (old: Json) => Json][] = [];
  if (typeof value === "string") {
    if (value.length > 0 && HEX.test(value)) {
      out.push(["flip-hex", (s) => flipHex(s as string)]);
      out.push(["flip-hex-last", (s) => flipHex(s as string, (s as string).length - 1)]);
      out.push(["hex-shortened", (s) => (s as string).slice(0, -2)]);
    }
    if (DECIMAL.test(value)) {
      out.push(["+1", (s) => String(BigInt(s as string) + 1n)]);
      out.push(["-1", (s) => String(BigInt(s as string) - 1n)]);
      out.push(["to-number", (s) => Number(s)]);
    } else {
      out.push(["other-string", (s) => `${s as string}x`]);
      out.push(["to-number", () => 1]);
    }
    out.push(["empty-string", () => ""]);
  } else if (typeof value === "number") {
    out.push(["+1", (n) => (n as number) + 1]);
    out.push(["-1", (n) => (n as number) - 1]);
    out.push(["to-string", (n) => String(n)]);
    out.push(["fraction", (n) => (n as number) + 0.5]);
  } else if (typeof value === "boolean") {
    out.push(["negate", (b) => !b]);
  } else if (value === null) {
    out.push(["to-object", () => ({})]);
    out.push(["to-string", () => "x"]);
  }
  if (value !== null) out.push(["to-null", () => null]);
  out.push(["to-object", () => ({})]);
  return out;
}

/** Every one-field mutation of `answer`, in a stable order. */
export function leafMutations(answer: Json): LeafMutation[] {
  const out: LeafMutation[] = [];
  const add = (path: readonly Step[], kind: string, change: (old: Json) => Json | typeof REMOVE) =>
    out.push({ path: describe(path), kind, apply: (root) => edit(root, path, change) });

  const walk = (value: Json, path: Step[]): void => {
    if (Array.isArray(value)) {
      if (path.length > 0) add(path, "delete", () => REMOVE);
      if (value.length > 0) {
        add(path, "duplicate-element", (a) => [...(a as Json[]), (a as Json[])[0]!]);
        add(path, "drop-element", (a) => (a as Json[]).slice(1));
      } else add(path, "add-element", () => [{}]);
      add(path, "to-null", () => null);
      for (const [i, v] of value.entries()) walk(v, [...path, i]);
      return;
    }
    if (value !== null && typeof value === "object") {
      if (path.length > 0) {
        add(path, "delete", () => REMOVE);
        add(path, "to-null", () => null);
        add(path, "to-string", () => "x");
      }
      add(path, "unknown-field", (o) => ({ ...(o as object), zzUnknown: 1 }));
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      return;
    }
    for (const [kind, change] of leafChanges(value)) {
      // A leaf's "to-object" for a null leaf is already listed once.
      if (out.some((m) => m.path === describe(path) && m.kind === kind)) continue;
      add(path, kind, change);
    }
    add(path, "delete", () => REMOVE);
  };
  walk(answer, []);
  // The whole answer as another JSON type.
  for (const [kind, other] of [
    ["answer-null", null],
    ["answer-array", []],
    ["answer-string", "x"],
    ["answer-number", 1],
  ] as const)
    out.push({ path: "", kind, apply: () => other as Json });
  return out;
}
