import { describe, expect, it } from "vitest";
import { DecodeError } from "../errors/protocol.ts";
import {
  type BlockHeader,
  blockHash,
  decodeBlockHeader,
  encodeBlockHeader,
  HEADER_VERSION,
  HEADER_VERSION_V1_RULES,
  headerProtocolVersion,
} from "./block.ts";
import { toHex } from "./bytes.ts";
import { verifyHeaderChain } from "./headerChain.ts";
import { createNativeVerifier } from "./node.ts";
import { certify, makeHeader, makeValidators } from "./testing/chain.ts";
import { protocolVersionAt, scheduleViolation, type UpgradeSchedule } from "./upgrades.ts";

// A header's hash as the codec before protocol versions gave it (computed
// with main's block.ts at 61cfd88): a version-1 header must keep it, and so
// every old block its hash.
const LEGACY_HASH = "2819106e434511723bdbd4789b9225a9fbc1fb5c5d8ea3609d10a5a71eea64b5";
const LEGACY_LENGTH = 255;

const vals = makeValidators(4, 7);
const v1 = makeHeader(null, vals.set);
const v2 = makeHeader(null, vals.set, vals.set, { protocolVersion: 2 });

const decodeCode = (bytes: Uint8Array) => {
  try {
    decodeBlockHeader(bytes);
    return "ok";
  } catch (err) {
    return err instanceof DecodeError ? err.code : String(err);
  }
};

describe("header protocol version", () => {
  it("encodes a version-1 header byte for byte as before versions existed", () => {
    const legacy = encodeBlockHeader(v1);
    expect(toHex(blockHash(v1))).toBe(LEGACY_HASH);
    expect(legacy.length).toBe(LEGACY_LENGTH);
    expect(legacy[0]).toBe(HEADER_VERSION_V1_RULES);
    expect(encodeBlockHeader({ ...v1, protocolVersion: 1 })).toEqual(legacy);
    const back = decodeBlockHeader(legacy);
    expect(headerProtocolVersion(back)).toBe(1);
    expect(toHex(blockHash(back))).toBe(LEGACY_HASH);
  });

  it("round-trips a version-2 header in the new encoding, with another hash", () => {
    const bytes = encodeBlockHeader(v2);
    expect(bytes[0]).toBe(HEADER_VERSION);
    expect(bytes.length).toBe(encodeBlockHeader(v1).length + 4);
    const back = decodeBlockHeader(bytes);
    expect(back).toEqual(v2);
    expect(encodeBlockHeader(back)).toEqual(bytes);
    expect(blockHash(v2)).not.toEqual(blockHash(v1));
  });

  it("refuses a new-encoding header naming version 1, and unknown encodings", () => {
    const bytes = encodeBlockHeader(v2);
    const one = bytes.slice();
    new DataView(one.buffer).setUint32(1, 1);
    expect(decodeCode(one)).toBe("DECODE_NON_CANONICAL");
    const zero = bytes.slice();
    new DataView(zero.buffer).setUint32(1, 0);
    expect(decodeCode(zero)).toBe("DECODE_NON_CANONICAL");
    const unknown = bytes.slice();
    unknown[0] = 4;
    expect(decodeCode(unknown)).toBe("DECODE_UNKNOWN_VERSION");
  });

  it("verifies a certified chain across the activation: old headers, then new", async () => {
    const h1 = makeHeader(null, vals.set);
    const h2 = makeHeader(h1, vals.set);
    const h3 = makeHeader(h2, vals.set, vals.set, { protocolVersion: 2 });
    const h4 = makeHeader(h3, vals.set, vals.set, { protocolVersion: 2 });
    // Through the bytes, as a light client receives them.
    const wire = (h: BlockHeader) => decodeBlockHeader(encodeBlockHeader(h));
    const end = await verifyHeaderChain(
      { header: wire(h1), validators: vals.set },
      [h2, h3, h4].map((h) => ({
        header: wire(h),
        certificate: certify(h, vals, [0, 1, 2]),
        validators: vals.set,
      })),
      createNativeVerifier(),
    );
    expect(blockHash(end.header)).toEqual(blockHash(h4));
    expect(headerProtocolVersion(end.header)).toBe(2);
  });
});

describe("activation schedule", () => {
  const schedule: UpgradeSchedule = [
    { height: 10, version: 2 },
    { height: 20, version: 5 },
  ];

  it("gives version 1 before the first activation and each version from its height on", () => {
    expect(protocolVersionAt([], 1_000_000)).toBe(1);
    expect(protocolVersionAt(schedule, 1)).toBe(1);
    expect(protocolVersionAt(schedule, 9)).toBe(1);
    expect(protocolVersionAt(schedule, 10)).toBe(2);
    expect(protocolVersionAt(schedule, 19)).toBe(2);
    expect(protocolVersionAt(schedule, 20)).toBe(5);
    expect(protocolVersionAt(schedule, 10_000)).toBe(5);
  });

  it("accepts increasing heights and versions only", () => {
    expect(scheduleViolation([])).toBeNull();
    expect(scheduleViolation(schedule)).toBeNull();
    expect(scheduleViolation([{ height: 0, version: 2 }])).toMatch(/height/);
    expect(scheduleViolation([{ height: 5, version: 1 }])).toMatch(/version/);
    expect(
      scheduleViolation([
        { height: 5, version: 2 },
        { height: 5, version: 3 },
      ]),
    ).toMatch(/height/);
    expect(
      scheduleViolation([
        { height: 5, version: 3 },
        { height: 6, version: 2 },
      ]),
    ).toMatch(/version/);
    expect(scheduleViolation([{ height: 1.5, version: 2 }])).toMatch(/height/);
  });
});
