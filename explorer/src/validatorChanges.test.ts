import { addressFromPublicKey, formatAddress, SecretKey } from "@edgeledger/sdk";
import { describe, expect, it } from "vitest";
import { changeText, setChanges } from "./validatorChanges.ts";

const keys = [0, 1, 2].map(() => SecretKey.generate().publicKey);
const addr = (i: number) => formatAddress(addressFromPublicKey(keys[i]!));

describe("validator set changes", () => {
  it("lists who joined, who left and whose power changed", () => {
    const before = [
      { publicKey: keys[0]!, power: 10n },
      { publicKey: keys[1]!, power: 10n },
    ];
    const after = [
      { publicKey: keys[0]!, power: 20n },
      { publicKey: keys[2]!, power: 5n },
    ];
    const changes = setChanges(before, after);
    expect(changes).toEqual([
      { kind: "power", address: addr(0), from: 10n, to: 20n },
      { kind: "added", address: addr(2), power: 5n },
      { kind: "removed", address: addr(1), power: 10n },
    ]);
    expect(changes.map(changeText)).toEqual([
      `± power of ${addr(0)}: 10 → 20`,
      `+ joined: ${addr(2)} with power 5`,
      `− left: ${addr(1)} (had power 10)`,
    ]);
    expect(setChanges(after, after)).toEqual([]);
  });
});
