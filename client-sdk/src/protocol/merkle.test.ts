import { describe, expect, it } from "vitest";
import { ProofError } from "../errors/protocol.ts";
import { fromHex, toHex } from "./bytes.ts";
import {
  decodeMerkleProof,
  encodeMerkleProof,
  merkleLeafHash,
  merkleProof,
  merkleRoot,
  verifyMerkleProof,
} from "./merkle.ts";

// The leaves and roots used by Certificate Transparency's reference tests (RFC 6962 trees).
const CT_LEAVES = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
];
const CT_ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => Uint8Array.of(i, i >> 8, 0xab));

describe("transaction Merkle tree (RFC 9162)", () => {
  it("matches the Certificate Transparency reference roots", () => {
    const leaves = CT_LEAVES.map((h) => fromHex(h));
    for (let n = 1; n <= leaves.length; n++)
      expect(toHex(merkleRoot(leaves.slice(0, n)))).toBe(CT_ROOTS[n - 1]);
    expect(toHex(merkleRoot([]))).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("proves every leaf of every tree size up to 40", () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = leavesOf(n);
      const hashes = leaves.map(merkleLeafHash);
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const proof = decodeMerkleProof(encodeMerkleProof(merkleProof(hashes, i)));
        expect(() => verifyMerkleProof({ root, size: n }, leaves[i]!, proof)).not.toThrow();
        // The proof binds the position: the same leaf claimed elsewhere fails.
        if (n > 1) {
          expect(() =>
            verifyMerkleProof({ root, size: n }, leaves[i]!, { ...proof, index: (i + 1) % n }),
          ).toThrow(ProofError);
          expect(() => verifyMerkleProof({ root, size: n }, leaves[(i + 1) % n]!, proof)).toThrow(
            ProofError,
          );
        }
        expect(() =>
          verifyMerkleProof({ root, size: n }, leaves[i]!, { ...proof, size: n + 1 }),
        ).toThrow(ProofError);
        expect(() => verifyMerkleProof({ root, size: n + 1 }, leaves[i]!, proof)).toThrow(
          ProofError,
        );
      }
    }
  });

  it("rejects a proof with any byte changed", () => {
    const leaves = leavesOf(13);
    const hashes = leaves.map(merkleLeafHash);
    const root = merkleRoot(leaves);
    const encoded = encodeMerkleProof(merkleProof(hashes, 6));
    for (let i = 0; i < encoded.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = encoded.slice();
        bad[i]! ^= mask;
        expect(
          () => verifyMerkleProof({ root, size: 13 }, leaves[6]!, decodeMerkleProof(bad)),
          `byte ${i}`,
        ).toThrow();
      }
    }
  });
});
