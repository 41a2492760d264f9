/**
 * The signing guard: this validator's memory of what it has signed, written
 * to disk (synced) BEFORE a signature is made, so that a crash and restart
 * can never make it sign a conflicting message (equivocate).
 *
 * Rules, per height (older heights are refused outright):
 *   - one proposal per (height, round); one vote per (height, round, type);
 *     signing the very same message again is allowed (re-broadcast after a
 *     restart), a different one is refused;
 *   - no going back: nothing is signed for a round lower than the highest
 *     round already signed for that kind of message at this height;
 *   - the block this validator proposed at a height is kept, so after a
 *     restart it proposes the same block again instead of a new one.
 */
import {
  type Block,
  decodeBlock,
  fromHex,
  type Proposal,
  proposalDigest,
  toHex,
  type Vote,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import type { Database } from "../db/database.ts";

interface SignedEntry {
  kind: "proposal" | "prevote" | "precommit";
  round: number;
  blockHash: string | null;
}

interface GuardRecord {
  height: number;
  signed: SignedEntry[];
  /** Whether this validator proposed a block at `height` (its bytes are stored beside the record). */
  proposed: boolean;
}

export interface SigningKey {
  readonly publicKey: Uint8Array;
  signSync(digest: Uint8Array): Uint8Array;
}

const text = new TextEncoder();
const untext = new TextDecoder();

export class SigningGuard {
  readonly #db: Database;
  readonly #key: SigningKey;
  readonly #chainId: string;
  #loaded: GuardRecord | null = null;

  constructor(db: Database, key: SigningKey, chainId: string) {
    this.#db = db;
    this.#key = key;
    this.#chainId = chainId;
  }

  /** Read on first use, so the guard can be built before the database opens. */
  get #record(): GuardRecord {
    if (!this.#loaded) {
      const raw = this.#db.getSigningRecord();
      this.#loaded = raw
        ? (JSON.parse(untext.decode(raw)) as GuardRecord)
        : { height: 0, signed: [], proposed: false };
    }
    return this.#loaded;
  }

  get publicKey(): Uint8Array {
    return this.#key.publicKey;
  }

  /**
   * Where this validator stood at `height` before a restart: the highest
   * round it signed anything in, and its lock (the last precommit for a
   * block). Null if it signed nothing at that height.
   */
  resume(
    height: number,
  ): { round: number; lockedRound: number; lockedValue: Uint8Array | null } | null {
    const r = this.#record;
    if (r.height !== height || r.signed.length === 0) return null;
    let round = 0;
    let lockedRound = -1;
    let lockedValue: Uint8Array | null = null;
    for (const s of r.signed) {
      round = Math.max(round, s.round);
      if (s.kind === "precommit" && s.blockHash !== null && s.round > lockedRound) {
        lockedRound = s.round;
        lockedValue = fromHex(s.blockHash);
      }
    }
    return { round, lockedRound, lockedValue };
  }

  /** The block this validator already proposed at `height`, to propose again. */
  proposedBlock(height: number): Block | null {
    const r = this.#record;
    if (r.height !== height || !r.proposed) return null;
    const bytes = this.#db.getProposedBlock();
    return bytes ? decodeBlock(bytes) : null;
  }

  /** `blockBytes`: the proposed block's canonical encoding, kept to propose it again after a restart. */
  async signProposal(proposal: Proposal, blockBytes: Uint8Array): Promise<Uint8Array | null> {
    const entry: SignedEntry = {
      kind: "proposal",
      round: proposal.round,
      blockHash: toHex(proposal.blockHash),
    };
    if (!(await this.#admit(proposal.height, entry, blockBytes))) return null;
    return this.#key.signSync(proposalDigest(this.#chainId, proposal));
  }

  async signVote(vote: Vote): Promise<Uint8Array | null> {
    const entry: SignedEntry = {
      kind: vote.type,
      round: vote.round,
      blockHash: vote.blockHash ? toHex(vote.blockHash) : null,
    };
    if (!(await this.#admit(vote.height, entry, null))) return null;
    return this.#key.signSync(voteDigest(this.#chainId, vote));
  }

  /** Records `entry` (persisted) if signing it cannot conflict; false otherwise. */
  async #admit(
    height: number,
    entry: SignedEntry,
    proposedBlock: Uint8Array | null,
  ): Promise<boolean> {
    const r = this.#record;
    if (height < r.height) return false;
    const current = height === r.height ? r.signed : [];
    let repeat = false;
    for (const s of current) {
      if (s.kind !== entry.kind) continue;
      if (s.round > entry.round) return false;
      if (s.round === entry.round) {
        if (s.blockHash !== entry.blockHash) return false;
        repeat = true;
      }
    }
    if (repeat) return true;
    const next: GuardRecord = {
      height,
      signed: [...current, entry],
      proposed: proposedBlock !== null || (height === r.height && r.proposed),
    };
    await this.#db.putSigningRecord(text.encode(JSON.stringify(next)), proposedBlock ?? undefined);
    this.#loaded = next;
    return true;
  }
}
