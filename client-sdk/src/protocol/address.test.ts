import { describe, expect, it } from "vitest";
import { AddressError } from "../errors/protocol.ts";
import { addressFromPublicKey, formatAddress, parseAddress } from "./address.ts";
import { SecretKey } from "./keys.ts";

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

describe("addresses", () => {
  const address = addressFromPublicKey(SecretKey.fromSeed(new Uint8Array(32).fill(9)).publicKey);
  const text = formatAddress(address);

  it("round-trip through their human form, also in upper case", () => {
    expect(text).toMatch(/^el1[02-9ac-hj-np-z]+$/);
    expect(parseAddress(text)).toEqual(address);
    expect(parseAddress(text.toUpperCase())).toEqual(address);
  });

  it("catch every single-character typo, swap of neighbours, and dropped character", () => {
    const body = text.slice(3);
    const typos: string[] = [];
    for (let i = 0; i < body.length; i++) {
      for (const c of CHARSET)
        if (c !== body[i]) typos.push(`el1${body.slice(0, i)}${c}${body.slice(i + 1)}`);
      if (i + 1 < body.length && body[i] !== body[i + 1]) {
        typos.push(`el1${body.slice(0, i)}${body[i + 1]}${body[i]}${body.slice(i + 2)}`);
      }
      typos.push(`el1${body.slice(0, i)}${body.slice(i + 1)}`);
    }
    for (const typo of typos) expect(() => parseAddress(typo), typo).toThrow(AddressError);
  });

  it("name what is wrong", () => {
    const codeOf = (s: string) => {
      try {
        parseAddress(s);
        return "ok";
      } catch (err) {
        return (err as AddressError).code;
      }
    };
    expect(codeOf(`xx1${text.slice(3)}`)).toBe("ADDRESS_WRONG_PREFIX");
    const letter = text.slice(3).search(/[a-z]/) + 3;
    const mixed = `${text.slice(0, letter)}${text[letter]!.toUpperCase()}${text.slice(letter + 1)}`;
    expect(codeOf(mixed)).toBe("ADDRESS_INVALID_FORMAT");
    expect(codeOf(`${text.slice(0, -1)}b`)).toBe("ADDRESS_INVALID_FORMAT");
    const last = text.at(-1)!;
    expect(codeOf(`${text.slice(0, -1)}${last === "q" ? "p" : "q"}`)).toBe(
      "ADDRESS_INVALID_CHECKSUM",
    );
    expect(() => formatAddress(new Uint8Array(19))).toThrow(
      expect.objectContaining({ code: "ADDRESS_WRONG_LENGTH" }),
    );
  });
});
