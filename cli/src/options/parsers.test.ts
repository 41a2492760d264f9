/**
 * The option parsers: each takes what it should, and refuses the rest with
 * commander's InvalidArgumentError (which commander prints as "option …
 * argument … is invalid. <message>" and exits 1).
 */
import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { amount, count, hash32, port, url, whole } from "./parsers.ts";

/** `parse(value)` throws commander's InvalidArgumentError saying `message`. */
function refuses(parse: (value: string) => unknown, value: string, message: string): void {
  let thrown: unknown;
  try {
    parse(value);
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `${JSON.stringify(value)} is refused`).toBeInstanceOf(InvalidArgumentError);
  expect((thrown as Error).message).toBe(message);
}

describe("option parsers", () => {
  it("port: 0-65535", () => {
    expect(port("0")).toBe(0);
    expect(port("8545")).toBe(8545);
    expect(port("65535")).toBe(65535);
    for (const bad of ["65536", "-1", "80.5", "http", "1e6"]) refuses(port, bad, "a port, 0-65535");
  });

  it("count: a whole number within its bounds", () => {
    const validators = count(1, 64);
    expect(validators("1")).toBe(1);
    expect(validators("64")).toBe(64);
    for (const bad of ["0", "65", "2.5", "four", "-3"])
      refuses(validators, bad, "a whole number, 1-64");
    expect(count(0, 64)("0")).toBe(0);
  });

  it("whole: 0 and up", () => {
    expect(whole("0")).toBe(0);
    expect(whole("100")).toBe(100);
    for (const bad of ["-1", "1.5", "many"]) refuses(whole, bad, "a whole number");
  });

  it("amount: a positive whole number, as a bigint past 2^53", () => {
    expect(amount("25")).toBe(25n);
    expect(amount("18446744073709551617")).toBe(18446744073709551617n);
    for (const bad of ["0", "-5", "007", "1.5", "1e3", "", " 5"])
      refuses(amount, bad, "a positive whole number");
  });

  it("hash32: 64 lowercase hex digits", () => {
    const hash = "ab".repeat(32);
    expect(hash32(hash)).toBe(hash);
    for (const bad of [
      "AB".repeat(32),
      "ab".repeat(31),
      `${hash}00`,
      `0x${hash.slice(2)}`,
      "zz".repeat(32),
    ])
      refuses(hash32, bad, "32 bytes of lowercase hex");
  });

  it("url: http(s) only, each occurrence added to the ones before", () => {
    expect(url("http://127.0.0.1:8545")).toEqual(["http://127.0.0.1:8545"]);
    expect(url("https://b.example", ["http://a.example"])).toEqual([
      "http://a.example",
      "https://b.example",
    ]);
    for (const bad of ["ftp://a.example", "127.0.0.1:8545", "http://", "http:///x", "HTTP//a"])
      refuses((v) => url(v), bad, "an http(s) URL");
  });
});
