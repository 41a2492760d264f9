/**
 * How one validator set differs from another: who joined, who left, whose
 * power changed. Pure; the validators page shows it between the set that
 * signed block 1 (the genesis set) and the current one, both verified.
 */
import { addressFromPublicKey, formatAddress, toHex, type ValidatorSet } from "@edgeledger/sdk";

export type SetChange =
  | { readonly kind: "added"; readonly address: string; readonly power: bigint }
  | { readonly kind: "removed"; readonly address: string; readonly power: bigint }
  | {
      readonly kind: "power";
      readonly address: string;
      readonly from: bigint;
      readonly to: bigint;
    };

/** The changes from `before` to `after`, in `after`'s order then the removed in `before`'s. */
export function setChanges(before: ValidatorSet, after: ValidatorSet): SetChange[] {
  const key = (publicKey: Uint8Array) => toHex(publicKey);
  const address = (publicKey: Uint8Array) => formatAddress(addressFromPublicKey(publicKey));
  const old = new Map(before.map((v) => [key(v.publicKey), v.power]));
  const now = new Set(after.map((v) => key(v.publicKey)));
  const changes: SetChange[] = [];
  for (const v of after) {
    const was = old.get(key(v.publicKey));
    if (was === undefined)
      changes.push({ kind: "added", address: address(v.publicKey), power: v.power });
    else if (was !== v.power)
      changes.push({ kind: "power", address: address(v.publicKey), from: was, to: v.power });
  }
  for (const v of before)
    if (!now.has(key(v.publicKey)))
      changes.push({ kind: "removed", address: address(v.publicKey), power: v.power });
  return changes;
}

/** One line per change, in words (no colour needed). */
export function changeText(c: SetChange): string {
  switch (c.kind) {
    case "added":
      return `+ joined: ${c.address} with power ${c.power}`;
    case "removed":
      return `− left: ${c.address} (had power ${c.power})`;
    case "power":
      return `± power of ${c.address}: ${c.from} → ${c.to}`;
  }
}
