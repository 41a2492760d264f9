/**
 * The Merkle tree over a block's transactions, as in RFC 9162 (Certificate
 * Transparency v2) §2.1: leaf = H(0x00 ‖ data), node = H(0x01 ‖ left ‖ right),
 * the left subtree being the largest power of two below n, and the empty tree
 * H(""). Inclusion proofs are its audit paths, verified with §2.1.3.2, which
 * also binds the leaf's index and the tree size.
 */
import { ProofError } from "../errors/protocol.ts";
import { equalBytes } from "./bytes.ts";
import { type Codec, decode, encode, list, struct, u32, versioned } from "./codec/codec.ts";
import { hashField } from "./fields.ts";
import { sha256 } from "./hash.ts";
import { MAX_MERKLE_PROOF_SIBLINGS } from "./limits.ts";

export interface MerkleProof {
  readonly index: number;
  readonly size: number;
  /** Audit path, from the leaf's sibling up to the root's child. */
  readonly siblings: readonly Uint8Array[];
}

export const merkleProofCodec: Codec<MerkleProof> = versioned(
  1,
  struct<MerkleProof>("MerkleProof", {
    index: u32("index"),
    size: u32("size"),
    siblings: list("siblings", hashField("sibling"), MAX_MERKLE_PROOF_SIBLINGS),
  }),
);

export function encodeMerkleProof(proof: MerkleProof): Uint8Array {
  return encode(merkleProofCodec, proof);
}
export function decodeMerkleProof(bytes: Uint8Array): MerkleProof {
  return decode(merkleProofCodec, bytes, { maxBytes: 16 + MAX_MERKLE_PROOF_SIBLINGS * 32 });
}

export function merkleLeafHash(data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + data.length);
  buf.set(data, 1);
  return sha256(buf);
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 33);
  return sha256(buf);
}

/** Largest power of two strictly below n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function subtreeRoot(hashes: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  const n = hi - lo;
  if (n === 1) return hashes[lo]!;
  const k = splitPoint(n);
  return nodeHash(subtreeRoot(hashes, lo, lo + k), subtreeRoot(hashes, lo + k, hi));
}

export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  return merkleRootOfHashes(leaves.map(merkleLeafHash));
}

export function merkleRootOfHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return sha256(new Uint8Array(0));
  return subtreeRoot(leafHashes, 0, leafHashes.length);
}

/** The inclusion proof of leaf `index`, given every leaf's hash. O(n) hashes. */
export function merkleProof(leafHashes: readonly Uint8Array[], index: number): MerkleProof {
  if (!Number.isInteger(index) || index < 0 || index >= leafHashes.length) {
    throw new RangeError(`Leaf index ${index} is outside a tree of ${leafHashes.length} leaves.`);
  }
  const siblings: Uint8Array[] = [];
  // RFC 9162 PATH(m, D[lo:hi]): recurse towards the leaf, emitting the other
  // side; the emitted hashes come out top-down, so reverse at the end.
  let lo = 0;
  let hi = leafHashes.length;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      siblings.push(subtreeRoot(leafHashes, lo + k, hi));
      hi = lo + k;
    } else {
      siblings.push(subtreeRoot(leafHashes, lo, lo + k));
      lo += k;
    }
  }
  return { index, size: leafHashes.length, siblings: siblings.reverse() };
}

/** The trusted tree a proof is checked against: a header's `txRoot` and `txCount`. */
export interface MerkleTreeRef {
  readonly root: Uint8Array;
  readonly size: number;
}

/**
 * Throws a ProofError unless `leafData` is leaf `proof.index` of the tree
 * `tree`. The size must come from the trusted side (the header's txCount):
 * an audit path alone can fit more than one tree size.
 */
export function verifyMerkleProof(
  tree: MerkleTreeRef,
  leafData: Uint8Array,
  proof: MerkleProof,
): void {
  const { index, size, siblings } = proof;
  if (size !== tree.size) {
    throw new ProofError("PROOF_MALFORMED", "Proof is for a tree of another size.", {
      details: { proof: size, trusted: tree.size },
    });
  }
  if (index >= size) {
    throw new ProofError("PROOF_MALFORMED", "Proof index is not below the tree size.", {
      details: { index, size },
    });
  }
  let fn = index;
  let sn = size - 1;
  let r = merkleLeafHash(leafData);
  for (const p of siblings) {
    if (sn === 0)
      throw new ProofError("PROOF_MALFORMED", "Proof has more siblings than the tree has levels.");
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0)
    throw new ProofError("PROOF_MALFORMED", "Proof has fewer siblings than the tree has levels.");
  if (!equalBytes(r, tree.root))
    throw new ProofError("PROOF_ROOT_MISMATCH", "Proof does not lead to the trusted root.");
}
