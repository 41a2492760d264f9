/**
 * The option parsers every command shares: each turns one command-line
 * value into what the handler takes, or refuses it with commander's
 * InvalidArgumentError, whose message commander prints after "option …
 * argument … is invalid." (so each message names what was expected).
 */
import { InvalidArgumentError } from "commander";

/** A positive whole number of the ledger's unit, as a bigint (balances pass 2^53). */
export const amount = (v: string): bigint => {
  if (!/^[1-9][0-9]*$/.test(v)) throw new InvalidArgumentError("a positive whole number");
  return BigInt(v);
};

/** A whole number from `min` to `max`. */
export const count =
  (min: number, max: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`a whole number, ${min}-${max}`);
    return n;
  };

/** An http(s) URL, added to those given before (a repeatable option's list). */
export const url = (v: string, previous: string[] = []): string[] => {
  if (!/^https?:\/\/[^/]/.test(v)) throw new InvalidArgumentError("an http(s) URL");
  return [...previous, v];
};

/** A 32-byte hash as lowercase hex, as the API writes it (a genesis hash). */
export const hash32 = (v: string): string => {
  if (!/^[0-9a-f]{64}$/.test(v)) throw new InvalidArgumentError("32 bytes of lowercase hex");
  return v;
};

/** A whole number, 0 and up. */
export const whole = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("a whole number");
  return n;
};

/** A TCP port, 0-65535 (0: any free one). */
export const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("a port, 0-65535");
  return n;
};

/**
 * A protocol upgrade `HEIGHT:VERSION`, added to those given before (a
 * repeatable option's list). Only the form is checked here; the order of the
 * whole schedule is the genesis parser's rule, so it is stated once.
 */
export const upgrade = (
  v: string,
  previous: { height: number; version: number }[] = [],
): { height: number; version: number }[] => {
  const m = /^([1-9][0-9]*):([1-9][0-9]*)$/.exec(v);
  if (!m) throw new InvalidArgumentError("HEIGHT:VERSION, two whole numbers (e.g. 1000:2)");
  return [...previous, { height: Number(m[1]), version: Number(m[2]) }];
};
