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
 *   - a lock holds: after a precommit for block B in round r, a prevote in a
 *     later round for another block is signed only with the justification
 *     the protocol requires (L28-L29: its proposal's polRound, a polka at
 *     least as recent as r). The engine obeys this already; the journal
 *     keeps it when the engine did not know it was locked — a hot standby
 *     whose twin precommitted through the same remote signer, then died;
 *   - "the very same message" means the same sign bytes (the digest), not
 *     only the same block hash: two proposals of one block with different
 *     polRounds are two different signed messages, and signing both is
 *     equivocation;
 *   - the block this validator proposed at a height is kept, so after a
 *     restart it proposes the same block again instead of a new one;
 *   - so is its valid value (the block with the highest polka it saw, the
 *     polka's prevotes and the block's bytes), so that after all honest
 *     validators restart with locks on different blocks, the one that knows
 *     the highest polka can re-propose it and unlock the others.
 *
 * The record is the `SigningJournal`; `SigningGuard` is what the driver asks
 * to sign, implemented here by `LocalSigningGuard` (journal + the key in
 * this process) and by signer/remoteGuard.ts (journal + a remote signer,
 * whose own journal refuses conflicts whoever asks).
 */
import {
  type Block,
  decodeBlock,
  decodeSignedVote,
  encodeSignedVote,
  fromHex,
  type Proposal,
  proposalDigest,
  type SignedVote,
  toHex,
  type Vote,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import type { Database } from "../db/database.ts";

/** Where a journal keeps its record: the node's `signing` bucket, or the remote signer's file. */
export type SigningStore = Pick<
  Database,
  "getSigningRecord" | "getSigningBlock" | "putSigningRecord"
>;

interface SignedEntry {
  kind: "proposal" | "prevote" | "precommit";
  round: number;
  blockHash: string | null;
  /** The digest signed (hex); absent in records written before it was kept. */
  digest?: string;
}

interface GuardRecord {
  height: number;
  signed: SignedEntry[];
  /** Whether this validator proposed a block at `height` (its bytes are stored beside the record). */
  proposed: boolean;
  /** The valid value at `height` (its block's bytes are stored beside the record). */
  valid?: { round: number; blockHash: string; polVotes: string[] };
}

/** The engine's valid value (L42-L43) with what a re-proposal of it needs. */
export interface ValidValue {
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly blockBytes: Uint8Array;
  /** The polka: prevotes for the block in `round`. */
  readonly polVotes: readonly SignedVote[];
}

export interface Resume {
  readonly round: number;
  readonly lockedRound: number;
  readonly lockedValue: Uint8Array | null;
  readonly validRound: number;
  readonly validValue: Uint8Array | null;
  readonly validBlock: Block | null;
  readonly polVotes: readonly SignedVote[];
}

export interface SigningKey {
  readonly publicKey: Uint8Array;
  signSync(digest: Uint8Array): Uint8Array;
}

/** What the consensus driver asks of whatever holds its key (local or remote). */
export interface SigningGuard {
  readonly publicKey: Uint8Array;
  resume(height: number): Resume | null;
  rememberValid(height: number, valid: ValidValue): Promise<void>;
  proposedBlock(height: number): Block | null;
  /** The signature, or null when signing could conflict with what was signed (or cannot be had now). */
  signProposal(proposal: Proposal, blockBytes: Uint8Array): Promise<Uint8Array | null>;
  /**
   * `polRound`: for a prevote for a block, the round of the polka that
   * justifies it against a lock (its proposal's polRound; null for a fresh
   * proposal). Without it a prevote against a lock is refused.
   */
  signVote(
    vote: Vote,
    valid?: ValidValue | null,
    polRound?: number | null,
  ): Promise<Uint8Array | null>;
  /**
   * A guard whose signatures can come late (a remote signer that was
   * unreachable when asked) hands them here once they do, to be sent.
   */
  onLateVote?(listener: (vote: SignedVote) => void): void;
  /**
   * A guard whose key can appear after the node started (a remote signer
   * down at start) says so here, each time it (re)names one.
   */
  onKeyNamed?(listener: () => void): void;
}

const text = new TextEncoder();
const untext = new TextDecoder();

/** The record of what was signed, and the rules above; signs nothing itself. */
export class SigningJournal {
  readonly #db: SigningStore;
  readonly #chainId: string;
  #loaded: GuardRecord | null = null;

  constructor(db: SigningStore, chainId: string) {
    this.#db = db;
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

  /**
   * Where this validator stood at `height` before a restart: the highest
   * round it signed anything in, and its lock (the last precommit for a
   * block). Null if it signed nothing at that height.
   */
  resume(height: number): Resume | null {
    const r = this.#record;
    if (r.height !== height || (r.signed.length === 0 && !r.valid)) return null;
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
    const validBytes = r.valid ? this.#db.getSigningBlock("valid") : undefined;
    const valid = r.valid && validBytes ? r.valid : null;
    return {
      round,
      lockedRound,
      lockedValue,
      validRound: valid ? valid.round : -1,
      validValue: valid ? fromHex(valid.blockHash) : null,
      validBlock: valid && validBytes ? decodeBlock(validBytes) : null,
      polVotes: valid ? valid.polVotes.map((v) => decodeSignedVote(fromHex(v))) : [],
    };
  }

  /**
   * Keeps the valid value of `height` (persisted, in the same synced batch
   * as the record). Not a safety matter, so never refused; a newer round
   * replaces an older one.
   */
  async rememberValid(height: number, valid: ValidValue): Promise<void> {
    const r = this.#record;
    if (height < r.height) return;
    const current = height === r.height ? r : { height, signed: [], proposed: false };
    if (current.valid && current.valid.round >= valid.round) return;
    await this.#write({ ...current, valid: validRecord(valid) }, [
      { key: "valid", bytes: valid.blockBytes },
    ]);
  }

  /** The block this validator already proposed at `height`, to propose again. */
  proposedBlock(height: number): Block | null {
    const r = this.#record;
    if (r.height !== height || !r.proposed) return null;
    const bytes = this.#db.getSigningBlock("proposed");
    return bytes ? decodeBlock(bytes) : null;
  }

  /**
   * Records `proposal` (synced) and returns the digest to sign, or null if
   * signing it could conflict. `blockBytes`: the proposed block's canonical
   * encoding, kept to propose it again after a restart (null: a remote
   * signer, which never sees blocks).
   */
  async admitProposal(
    proposal: Proposal,
    blockBytes: Uint8Array | null,
  ): Promise<Uint8Array | null> {
    const digest = proposalDigest(this.#chainId, proposal);
    const entry: SignedEntry = {
      kind: "proposal",
      round: proposal.round,
      blockHash: toHex(proposal.blockHash),
      digest: toHex(digest),
    };
    return (await this.#admit(proposal.height, entry, blockBytes, null)) ? digest : null;
  }

  /**
   * Records `vote` (synced) and returns the digest to sign, or null if signing
   * it could conflict. `valid`: the engine's valid value, when it changed with
   * this vote (kept in the same write). `polRound`: see SigningGuard.signVote.
   */
  async admitVote(
    vote: Vote,
    valid: ValidValue | null = null,
    polRound: number | null = null,
  ): Promise<Uint8Array | null> {
    const digest = voteDigest(this.#chainId, vote);
    const entry: SignedEntry = {
      kind: vote.type,
      round: vote.round,
      blockHash: vote.blockHash ? toHex(vote.blockHash) : null,
      digest: toHex(digest),
    };
    return (await this.#admit(vote.height, entry, null, valid, polRound)) ? digest : null;
  }

  /** Records `entry` (persisted) if signing it cannot conflict; false otherwise. */
  async #admit(
    height: number,
    entry: SignedEntry,
    proposedBlock: Uint8Array | null,
    valid: ValidValue | null,
    polRound: number | null = null,
  ): Promise<boolean> {
    const r = this.#record;
    if (height < r.height) return false;
    const same = height === r.height;
    const current = same ? r.signed : [];
    if (entry.kind === "prevote" && againstLock(current, entry, polRound)) return false;
    let repeat = false;
    for (const s of current) {
      if (s.kind !== entry.kind) continue;
      if (s.round > entry.round) return false;
      if (s.round === entry.round) {
        // The same sign bytes, or (a record from before digests were kept) the same block.
        const sameMessage =
          s.digest !== undefined ? s.digest === entry.digest : s.blockHash === entry.blockHash;
        if (!sameMessage) return false;
        repeat = true;
      }
    }
    if (repeat) return true;
    const keepValid = valid && !(same && r.valid && r.valid.round >= valid.round);
    const next: GuardRecord = {
      height,
      signed: [...current, entry],
      proposed: proposedBlock !== null || (same && r.proposed),
      ...(keepValid ? { valid: validRecord(valid) } : same && r.valid ? { valid: r.valid } : {}),
    };
    const blocks = [
      ...(proposedBlock ? [{ key: "proposed" as const, bytes: proposedBlock }] : []),
      ...(keepValid ? [{ key: "valid" as const, bytes: valid.blockBytes }] : []),
    ];
    await this.#write(next, blocks);
    return true;
  }

  async #write(
    next: GuardRecord,
    blocks: { key: "proposed" | "valid"; bytes: Uint8Array }[],
  ): Promise<void> {
    await this.#db.putSigningRecord(text.encode(JSON.stringify(next)), blocks);
    this.#loaded = next;
  }
}

/**
 * What every guard shares: the journal, and the driver's questions it
 * answers (resume, valid value, proposed block). A guard adds where its
 * signatures come from: `LocalSigningGuard` below, signer/remoteGuard.ts.
 */
export abstract class JournaledGuard {
  protected readonly journal: SigningJournal;

  constructor(db: SigningStore, chainId: string) {
    this.journal = new SigningJournal(db, chainId);
  }

  resume(height: number): Resume | null {
    return this.journal.resume(height);
  }

  rememberValid(height: number, valid: ValidValue): Promise<void> {
    return this.journal.rememberValid(height, valid);
  }

  proposedBlock(height: number): Block | null {
    return this.journal.proposedBlock(height);
  }
}

/** The guard of a node that holds its key: the journal, then the key, in this process. */
export class LocalSigningGuard extends JournaledGuard implements SigningGuard {
  readonly #key: SigningKey;

  constructor(db: SigningStore, key: SigningKey, chainId: string) {
    super(db, chainId);
    this.#key = key;
  }

  get publicKey(): Uint8Array {
    return this.#key.publicKey;
  }

  async signProposal(
    proposal: Proposal,
    blockBytes: Uint8Array | null,
  ): Promise<Uint8Array | null> {
    const digest = await this.journal.admitProposal(proposal, blockBytes);
    return digest && this.#key.signSync(digest);
  }

  async signVote(
    vote: Vote,
    valid: ValidValue | null = null,
    polRound: number | null = null,
  ): Promise<Uint8Array | null> {
    const digest = await this.journal.admitVote(vote, valid, polRound);
    return digest && this.#key.signSync(digest);
  }
}

/**
 * Whether prevote `entry` goes against the lock of `signed` (the last
 * precommit for a block in an earlier round) without a polka at least as
 * recent as the lock (L29: lockedRound ≤ vr, with vr < round).
 */
function againstLock(
  signed: readonly SignedEntry[],
  entry: SignedEntry,
  polRound: number | null,
): boolean {
  if (entry.blockHash === null) return false;
  let lock: SignedEntry | null = null;
  for (const s of signed)
    if (s.kind === "precommit" && s.blockHash !== null && s.round < entry.round)
      if (lock === null || s.round > lock.round) lock = s;
  if (lock === null || lock.blockHash === entry.blockHash) return false;
  return polRound === null || polRound < lock.round || polRound >= entry.round;
}

function validRecord(valid: ValidValue): NonNullable<GuardRecord["valid"]> {
  return {
    round: valid.round,
    blockHash: toHex(valid.blockHash),
    polVotes: valid.polVotes.map((v) => toHex(encodeSignedVote(v))),
  };
}
