/**
 * Equivocation evidence waiting to be recorded on chain: found by our own
 * engine (two conflicting votes from one validator) or received on the
 * evidence gossip topic, always signature-checked before it gets here.
 * Proposers take from it (`pending`); a committed block's evidence leaves it.
 * One item per slot (validator, height, round, type), bounded: a flood of
 * evidence about one validator cannot crowd out the rest for long, because
 * the oldest items go first.
 */
import { type DuplicateVoteEvidence, evidenceSlot, toHex } from "@edgeledger/sdk/protocol";

export const MAX_PENDING_EVIDENCE = 1024;

export class EvidencePool {
  readonly #items = new Map<string, DuplicateVoteEvidence>();
  readonly #max: number;

  constructor(max = MAX_PENDING_EVIDENCE) {
    this.#max = max;
  }

  get size(): number {
    return this.#items.size;
  }

  has(e: DuplicateVoteEvidence): boolean {
    return this.#items.has(toHex(evidenceSlot(e)));
  }

  /** Adds `e` unless its slot is already pending; true if it was new. */
  add(e: DuplicateVoteEvidence): boolean {
    const slot = toHex(evidenceSlot(e));
    if (this.#items.has(slot)) return false;
    if (this.#items.size >= this.#max) {
      const oldest = this.#items.keys().next().value;
      if (oldest !== undefined) this.#items.delete(oldest);
    }
    this.#items.set(slot, e);
    return true;
  }

  /** What a proposer should try to record, oldest first. */
  pending(): DuplicateVoteEvidence[] {
    return [...this.#items.values()];
  }

  /** Forgets what a committed block recorded (or what can no longer be recorded). */
  remove(items: readonly DuplicateVoteEvidence[]): void {
    for (const e of items) this.#items.delete(toHex(evidenceSlot(e)));
  }
}
