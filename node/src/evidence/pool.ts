/**
 * Equivocation evidence waiting to be recorded on chain: found by our own
 * engine (two conflicting votes from one validator) or received on the
 * evidence gossip topic (evidence/gossip.ts), always signature-checked
 * before it gets here. Proposers take from it (`pending`); a committed
 * block's evidence leaves it.
 *
 * Bounded without letting evidence evict evidence: one item per slot
 * (validator, height, round, type), at most MAX_PENDING_PER_VALIDATOR per
 * validator, and when the pool is full a new item is refused rather than
 * an old one dropped. A Byzantine validator that equivocates at will (it
 * can sign as many conflicting pairs about itself as it likes) only ever
 * fills its own few places, so evidence against another validator stays.
 */
import {
  bytesKey,
  type DuplicateVoteEvidence,
  encodeEvidence,
  evidenceSlot,
  toHex,
} from "@edgeledger/sdk/protocol";

/** Enough to record one equivocation per validator; a block records one per validator anyway. */
export const MAX_PENDING_PER_VALIDATOR = 4;
export const MAX_PENDING_EVIDENCE = 1024;

export class EvidencePool {
  /** By slot. */
  readonly #items = new Map<string, { e: DuplicateVoteEvidence; bytes: string }>();
  /** Pending items per validator (hex key). */
  readonly #perValidator = new Map<string, number>();
  readonly #max: number;

  constructor(max = MAX_PENDING_EVIDENCE) {
    this.#max = max;
  }

  get size(): number {
    return this.#items.size;
  }

  /** Whether this very item (byte for byte) is pending. */
  has(e: DuplicateVoteEvidence): boolean {
    return this.#items.get(toHex(evidenceSlot(e)))?.bytes === bytesKey(encodeEvidence(e));
  }

  /** Adds `e` unless its slot is pending, its validator has its share, or the pool is full; true if added. */
  add(e: DuplicateVoteEvidence): boolean {
    const slot = toHex(evidenceSlot(e));
    if (this.#items.has(slot) || this.#items.size >= this.#max) return false;
    const who = toHex(e.first.vote.validator);
    const count = this.#perValidator.get(who) ?? 0;
    if (count >= MAX_PENDING_PER_VALIDATOR) return false;
    this.#items.set(slot, { e, bytes: bytesKey(encodeEvidence(e)) });
    this.#perValidator.set(who, count + 1);
    return true;
  }

  /** What a proposer should try to record, oldest first. */
  pending(): DuplicateVoteEvidence[] {
    return [...this.#items.values()].map((item) => item.e);
  }

  /** Forgets what a committed block recorded (or what can no longer be recorded). */
  remove(items: readonly DuplicateVoteEvidence[]): void {
    for (const e of items) {
      const slot = toHex(evidenceSlot(e));
      const item = this.#items.get(slot);
      if (!item) continue;
      this.#items.delete(slot);
      const who = toHex(item.e.first.vote.validator);
      const count = (this.#perValidator.get(who) ?? 1) - 1;
      if (count <= 0) this.#perValidator.delete(who);
      else this.#perValidator.set(who, count);
    }
  }
}
