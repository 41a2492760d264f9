/**
 * How values read on the page: amounts with digit groups, hashes cut to
 * their ends, times in UTC, ages, shares of voting power. Pure and
 * deterministic (the clock is a parameter), so the tests pin every string.
 */

/** 1234567n → "1,234,567" (amounts are whole units; no locale, so every reader sees one form). */
export function formatAmount(amount: bigint): string {
  const digits = (amount < 0n ? -amount : amount).toString();
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return amount < 0n ? `-${grouped}` : grouped;
}

/** "0123456789abcdef…" → "01234567…89abcdef" (whole when short). */
export function shortHex(hex: string, keep = 8): string {
  return hex.length <= 2 * keep + 1 ? hex : `${hex.slice(0, keep)}…${hex.slice(-keep)}`;
}

/** Unix ms → "2026-12-02 06:40:12 UTC". */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** How long before `now` (ms) `then` was: "4 s ago", "3 min ago", "2 h ago", "in the future". */
export function formatAge(then: number, now: number): string {
  const s = Math.floor((now - then) / 1000);
  if (s < 0) return "in the future";
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.floor(s / 60)} min ago`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} days ago`;
}

/** part of total as a percentage with one decimal, rounded down ("66.6%"): never overstates a quorum. */
export function formatShare(part: bigint, total: bigint): string {
  if (total <= 0n) return "0%";
  const tenths = (part * 1000n) / total;
  return `${tenths / 10n}.${tenths % 10n}%`;
}
