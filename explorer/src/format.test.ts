import { describe, expect, it } from "vitest";
import { formatAge, formatAmount, formatShare, formatTime, shortHex } from "./format.ts";

describe("formatting", () => {
  it("groups digits of amounts", () => {
    expect(formatAmount(0n)).toBe("0");
    expect(formatAmount(999n)).toBe("999");
    expect(formatAmount(1000n)).toBe("1,000");
    expect(formatAmount(1234567890123456789n)).toBe("1,234,567,890,123,456,789");
    expect(formatAmount(-1234n)).toBe("-1,234");
  });

  it("cuts hashes to their ends", () => {
    expect(shortHex("ab".repeat(32))).toBe("abababab…abababab");
    expect(shortHex("0123456789abcdef0")).toBe("0123456789abcdef0");
  });

  it("writes times in UTC and ages against a given clock", () => {
    expect(formatTime(Date.UTC(2026, 11, 2, 6, 40, 12, 999))).toBe("2026-12-02 06:40:12 UTC");
    const now = 1_000_000_000;
    expect(formatAge(now - 4_000, now)).toBe("4 s ago");
    expect(formatAge(now - 180_000, now)).toBe("3 min ago");
    expect(formatAge(now - 3 * 3_600_000, now)).toBe("3 h ago");
    expect(formatAge(now - 3 * 86_400_000, now)).toBe("3 days ago");
    expect(formatAge(now + 5_000, now)).toBe("in the future");
  });

  it("rounds shares of power down, so a quorum is never overstated", () => {
    expect(formatShare(2n, 3n)).toBe("66.6%");
    expect(formatShare(3n, 4n)).toBe("75.0%");
    expect(formatShare(4n, 4n)).toBe("100.0%");
    expect(formatShare(1n, 0n)).toBe("0%");
  });
});
