/**
 * The BFT consensus state machine for one height: Algorithm 1 of "The latest
 * gossip on BFT consensus" (Buchman, Kwon, Milosevic, 2018, arXiv:1807.04938),
 * the algorithm CometBFT implements. Comments of the form `L22` name the line
 * of that algorithm a piece of code implements.
 *
 * What it owns: the round, step, lock (lockedValue/lockedRound), valid value
 * (validValue/validRound), the message log of the height, and the decision.
 * What it may not touch: clocks, timers, sockets, storage, signing and
 * signature checks. It is a pure, deterministic, synchronous object: events go
 * in through `handle()`, actions come out, and the same events in the same
 * order always give the same actions. The driver (driver.ts) owns everything
 * else:
 *
 * - it checks signatures and the message's chain before it hands a proposal or
 *   a vote in, and executes the proposed block to say whether it is `valid`;
 * - it answers `request-value` with a block hash (`value` event);
 * - it persists, then signs, then broadcasts every `propose` and `vote` action
 *   and feeds the signed message back in as an event (our own messages count
 *   like anyone's: with n = 1 that is how a validator decides alone);
 * - it runs the timers of `schedule-timeout` and feeds `timeout` events back;
 * - on `decide` it commits the block with that hash (fetching it by hash if
 *   it never got the proposal; if our own execution finds it invalid, our
 *   execution disagrees with an honest validator's, and the node must halt
 *   rather than go on) and starts a new engine for the next height;
 * - the network relays every valid message it receives to all peers
 *   (gossipsub does) and repeats messages of the current round now and then:
 *   the algorithm assumes that a message one correct node received, every
 *   correct node eventually receives. A decided engine says nothing more, so
 *   peers still at this height get the certificate from block sync.
 *
 * Crash recovery follows from determinism: log every event before handling
 * it and replay the log into a fresh engine (CometBFT's WAL). The replay asks
 * to sign exactly what was signed before, which a signer that refuses to sign
 * a *different* message for a (type, height, round) it already signed lets
 * through.
 *
 * Values are block hashes. `valid(v)` is the `valid` flag the driver gave with
 * the proposal.
 *
 * ## Why it is safe (and what the tests check)
 *
 * Thresholds are by power: "2f+1" is `hasQuorum` (more than 2/3 of the total),
 * "f+1" is more than 1/3. While Byzantine validators hold at most f < 1/3:
 *
 * 1. An honest engine never signs two different votes of one type in one
 *    round: it votes only when it leaves the step the vote belongs to, steps
 *    only go forward within a round, and rounds only go up.
 * 2. Two quorums intersect in more than 1/3 of the power, so in one honest
 *    validator: at most one value gets a polka (>2/3 prevotes) or >2/3
 *    precommits per round.
 * 3. Locking: an honest validator that precommits v in round r is locked on v
 *    and prevotes another value in a later round only for a proposal whose
 *    polRound ≥ its lockedRound carries a polka in that round (L28-L29). If
 *    >2/3 precommitted v in round r, more than 1/3 honest are locked on v, no
 *    other value can get a polka in any round > r, so no proposal can unlock
 *    them, so no other value is ever decided (L49).
 * 4. A validator counts at most once toward any one value in a (type, round),
 *    and once toward "any" (the paper's ∗). An equivocator's different votes
 *    each count toward their own value (as in the paper) and are reported as
 *    evidence; point 2 holds anyway, as the shared honest validator votes once.
 *
 * engine.test.ts checks: n = 1 and n = 4 decide with certificates that
 * `verifyFinalityCertificate` accepts; silent proposers, invalid proposals and
 * locks behave as above; no decision without a quorum (2 of 4 offline, or
 * exactly 2/3 of weighted power); repeated votes are not counted twice and
 * conflicting ones give evidence once; and a seeded fuzz over random delivery
 * orders, drops, repeats, timer firings and one equivocating validator finds
 * no two honest engines deciding different blocks, no invalid block decided,
 * no honest engine asking to sign two different votes (or proposals) for one
 * (type, round), every certificate valid, and — once the network is reliable
 * — every honest engine deciding.
 *
 * ## Where it departs from the paper, and why
 *
 * - Deciding (L49) needs >2/3 precommits for a hash, not the proposal. Those
 *   precommits include an honest validator's, which precommitted only a valid
 *   proposal (L36), so the block is valid; the driver fetches it by hash if
 *   needed. This is what lets an observer or a late node decide from votes.
 * - The proposer also schedules timeoutPropose (L21 is only for the others):
 *   a proposer whose block building is slow or whose signer refuses (it
 *   already signed another proposal for this round before a crash) moves on
 *   instead of holding the round forever. Once it has prevoted, the timeout
 *   is a no-op (L58).
 * - Round skipping (L55) moves to the highest round r such that validators
 *   with more than 1/3 of the power have sent a message in a round ≥ r (the
 *   paper: in round r exactly). It gives the same guarantee — at least one
 *   honest validator has reached r, so Byzantine validators alone cannot push
 *   us ahead — and keeps working when we only hold each validator's latest
 *   rounds (below).
 * - Messages for rounds above ours are bounded per validator: we keep those of
 *   its FUTURE_ROUNDS_PER_VALIDATOR highest rounds and drop lower ones. A
 *   fixed window (round < ours + K) would strand a node that comes back after
 *   the others have timed out K rounds ahead: it would never see f+1 messages
 *   inside its window, never catch up, and the height would stall if it is
 *   needed for a quorum. Keeping each validator's highest rounds follows
 *   honest validators wherever they are, bounds memory at
 *   n × FUTURE_ROUNDS_PER_VALIDATOR rounds, and a Byzantine validator that
 *   floods far rounds only spends its own slots. (CometBFT bounds it per peer
 *   the same way, `peerCatchupRounds` = 2.) Messages for our round and earlier
 *   ones are all kept: per round we have actually reached, two votes per
 *   validator (2 × VOTES_KEPT_PER_SIGNER for an equivocator).
 * - An equivocator's votes: we keep up to VOTES_KEPT_PER_SIGNER different ones
 *   per (type, round) and count each for its value, where CometBFT keeps the
 *   first and counts a conflicting one only for a block a peer claims has
 *   +2/3 (VoteSetMaj23). We have no such claims; "first wins" alone lets one
 *   equivocator stall a height (the seeded fuzz found it: honest nodes that
 *   got its two prevotes in different orders disagreed forever on whether a
 *   polka existed, so a locked validator never accepted the proposal that
 *   would have unlocked it). The cap bounds memory; an equivocator that
 *   sends more different votes than that, the real one last, can still hide
 *   its real vote from a node: a liveness risk, never a safety one.
 * - Conflicting proposals from one proposer: the first is kept, the others
 *   ignored (the protocol has no proposal evidence object yet).
 * - Proposer-based timestamps (CometBFT v1's PBTS): L23 also asks that a
 *   fresh proposal (polRound −1) be `timely` — its block time fits the
 *   moment the driver received it (chain/blockTime.ts). L29 and L36 do not:
 *   a block that already won a polka was timely for more than 1/3 honest
 *   validators. Safety is untouched (timely only ever turns a prevote into
 *   nil); it is what keeps one proposer from choosing the chain's time.
 * - The driver hands a proposal in only when `wantsProposal` says the engine
 *   would use it (one per round, from its proposer, for a round we have
 *   reached), so it executes at most one block per round a proposer leads.
 * - >2/3 nil precommits in our round end it at once (#endRoundOnNilCommit)
 *   rather than after timeoutPrecommit. No value can be decided in that
 *   round any more: a value's >2/3 and the nil >2/3 would share more than
 *   1/3 of the power, so an honest validator that precommitted both, and
 *   honest validators precommit once per round. Waiting for more precommits
 *   could only ever bring more nils; the timeout was pure delay. It is what
 *   makes a round led by a faulty proposer (an invalid, untimely or
 *   oversized block) cost a few message delays instead of a second.
 * - A precommit for a block signed by our own key that this engine did not
 *   make (a hot standby's twin, through a shared remote signer) locks this
 *   engine too: the key is locked whichever process signed.
 * - A restarted validator gets back its valid value as well as its lock
 *   (EngineInit.resume), with the polka to re-propose it: when all honest
 *   validators restart after locking on different blocks, the locks alone
 *   would leave nobody able to propose a block the others may vote for.
 *
 * Long on purpose: the whole Tendermint state machine in one pure file, its
 * rules numbered as the paper's lines (L11…L65), so it reads against the
 * paper and its tests (engine.test.ts, twins.test.ts) drive one unit.
 */
import {
  BaseError,
  type CertificateSignature,
  equalBytes,
  type FinalityCertificate,
  hasQuorum,
  type Proposal,
  proposerIndex,
  type SignedProposal,
  type SignedVote,
  toHex,
  totalPower,
  type ValidatorSet,
  type Vote,
  type VoteType,
} from "@edgeledger/sdk/protocol";

export type Step = "propose" | "prevote" | "precommit";

/** Timeouts in milliseconds: `base + delta × round`, so a slow network eventually fits in a round. */
export interface TimeoutConfig {
  readonly proposeMs: number;
  readonly proposeDeltaMs: number;
  readonly prevoteMs: number;
  readonly prevoteDeltaMs: number;
  readonly precommitMs: number;
  readonly precommitDeltaMs: number;
}

/** CometBFT's defaults: proposing includes building and executing a block, so it gets longer. */
export const DEFAULT_TIMEOUTS: TimeoutConfig = {
  proposeMs: 3000,
  proposeDeltaMs: 500,
  prevoteMs: 1000,
  prevoteDeltaMs: 500,
  precommitMs: 1000,
  precommitDeltaMs: 500,
};

/**
 * How many different votes of one validator for one (type, round) we keep and
 * count. An honest validator sends one; an equivocator's first extra one is
 * reported, and a few are kept so that the value honest validators vote for
 * is among them (see the module comment); the rest are dropped.
 */
export const VOTES_KEPT_PER_SIGNER = 3;

/** How many rounds above ours we keep messages for, per validator (see the module comment). */
export const FUTURE_ROUNDS_PER_VALIDATOR = 2;

/** Rounds are u32 on the wire. */
const MAX_ROUND = 0xffff_ffff;

export function timeoutDelay(config: TimeoutConfig, step: Step, round: number): number {
  switch (step) {
    case "propose":
      return config.proposeMs + config.proposeDeltaMs * round;
    case "prevote":
      return config.prevoteMs + config.prevoteDeltaMs * round;
    case "precommit":
      return config.precommitMs + config.precommitDeltaMs * round;
  }
}

export interface EngineInit {
  /**
   * The chain this height belongs to. The engine neither signs nor verifies,
   * so it only carries it (in `state`) for the driver and its logs.
   */
  readonly chainId: string;
  readonly height: number;
  /** The set that decides this height (the parent header's nextValidatorsHash). */
  readonly validators: ValidatorSet;
  /** Our public key; null, or a key outside the set, makes an observer that decides but never votes. */
  readonly self: Uint8Array | null;
  readonly timeouts?: Partial<TimeoutConfig>;
  /**
   * What this validator had signed at this height before a restart (the
   * signing guard keeps it): start at `round` instead of 0, and keep the lock
   * of its last precommit for a block. Forgetting the lock would let it
   * prevote a different block in a later round without a polka justifying
   * it, which is exactly what locking exists to prevent.
   */
  readonly resume?: {
    readonly round: number;
    readonly lockedRound: number;
    readonly lockedValue: Uint8Array | null;
    /**
     * The valid value (L42-L43) too: after honest validators all restart
     * with locks on different blocks, only a proposer that still knows the
     * block with the highest polka, and re-proposes it with that polRound,
     * can unlock the others (L28-L29). The driver must also hold the block
     * and the polka's prevotes to send with it.
     */
    readonly validRound?: number;
    readonly validValue?: Uint8Array | null;
  };
}

export type EngineEvent =
  /** Begin round 0. Messages handed in before are kept and take effect now. */
  | { readonly type: "start" }
  /**
   * Signature already checked; `valid` = the block executed correctly on our
   * state; `timely` (default true) = its time fits the moment we received it
   * (`isTimely`, proposer-based timestamps), which only a fresh proposal
   * (polRound null) is held to.
   */
  | {
      readonly type: "proposal";
      readonly proposal: SignedProposal;
      readonly valid: boolean;
      readonly timely?: boolean;
    }
  /** The answer to `request-value`: the hash of the block the driver built. */
  | { readonly type: "value"; readonly round: number; readonly blockHash: Uint8Array }
  /** Signature already checked. */
  | { readonly type: "vote"; readonly vote: SignedVote }
  | { readonly type: "timeout"; readonly step: Step; readonly round: number };

export type EngineAction =
  /** We propose this round and have no validValue: build a block, answer with a `value` event. */
  | { readonly type: "request-value"; readonly round: number }
  /** Persist, sign, broadcast, and feed back as a `proposal` event. */
  | { readonly type: "propose"; readonly proposal: Proposal }
  /**
   * Persist, sign, broadcast, and feed back as a `vote` event (blockHash null
   * = nil). `polRound`: for a prevote for a block, the polka round that let
   * it go against a lock (the proposal's polRound; null for a fresh one): the
   * signing guard checks it (signingGuard.ts).
   */
  | { readonly type: "vote"; readonly vote: Vote; readonly polRound: number | null }
  | {
      readonly type: "schedule-timeout";
      readonly step: Step;
      readonly round: number;
      readonly delayMs: number;
    }
  /** >2/3 precommits for one block in one round; the certificate lists them by validator index. */
  | {
      readonly type: "decide";
      readonly round: number;
      readonly blockHash: Uint8Array;
      readonly certificate: FinalityCertificate;
    }
  /** One validator signed two different votes for one (type, height, round); reported once. */
  | { readonly type: "evidence"; readonly first: SignedVote; readonly second: SignedVote };

export interface Decision {
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly certificate: FinalityCertificate;
}

/** A snapshot; -1 means "none" for lockedRound and validRound, as in the paper. */
export interface EngineState {
  readonly chainId: string;
  readonly height: number;
  readonly round: number;
  readonly step: Step;
  readonly started: boolean;
  readonly lockedValue: Uint8Array | null;
  readonly lockedRound: number;
  readonly validValue: Uint8Array | null;
  readonly validRound: number;
  readonly decision: Decision | null;
  /** Votes held in the log (for metrics and for tests of the memory bound). */
  readonly storedVotes: number;
}

export class ConsensusConfigError extends BaseError<"CONSENSUS_INVALID_CONFIG"> {
  override name = "ConsensusConfigError";
}

interface StoredProposal {
  readonly signed: SignedProposal;
  readonly valid: boolean;
  readonly timely: boolean;
}

/** One validator's votes of one type in one round: one, unless it equivocates. */
interface VoteSlot {
  /** Distinct values, in arrival order, at most VOTES_KEPT_PER_SIGNER. */
  readonly votes: SignedVote[];
  /** Evidence against this validator for this (type, round) was already emitted. */
  reported: boolean;
}

interface RoundLog {
  proposal: StoredProposal | null;
  /** By validator index. */
  readonly prevote: Map<number, VoteSlot>;
  readonly precommit: Map<number, VoteSlot>;
}

/** A vote's value: a block hash or nil; "any" counts both (the paper's ∗). */
type Tally = Uint8Array | null | "any";

export class ConsensusEngine {
  readonly #chainId: string;
  readonly #height: number;
  readonly #validators: ValidatorSet;
  readonly #total: bigint;
  readonly #indexByKey: Map<string, number>;
  readonly #selfIndex: number | null;
  readonly #timeouts: TimeoutConfig;

  // L2-L9: the state of the process for this height.
  #started = false;
  #round = 0;
  #step: Step = "propose";
  #lockedValue: Uint8Array | null = null;
  #lockedRound = -1;
  /** The round to start in (see EngineInit.resume). */
  #resumeRound = 0;
  #validValue: Uint8Array | null = null;
  #validRound = -1;
  #decision: Decision | null = null;

  readonly #log = new Map<number, RoundLog>();
  /** Per validator: the rounds above ours it has messages in, ascending, at most FUTURE_ROUNDS_PER_VALIDATOR. */
  readonly #futureRounds: number[][];
  /** Rounds that got a precommit since L49 was last checked. */
  readonly #precommitRoundsToCheck = new Set<number>();

  // "For the first time" guards of the current round, reset by startRound.
  #awaitingValue = false;
  #prevoteTimeoutScheduled = false; // L34
  #polkaHandled = false; // L36
  #precommitTimeoutScheduled = false; // L47

  /** Actions of the event being handled. */
  #actions: EngineAction[] = [];

  constructor(init: EngineInit) {
    if (!Number.isSafeInteger(init.height) || init.height < 0) {
      throw new ConsensusConfigError(
        "CONSENSUS_INVALID_CONFIG",
        "Height must be a safe integer ≥ 0.",
        {
          details: { height: init.height },
        },
      );
    }
    if (init.validators.length === 0) {
      throw new ConsensusConfigError(
        "CONSENSUS_INVALID_CONFIG",
        "The validator set of a height cannot be empty.",
      );
    }
    const timeouts: TimeoutConfig = { ...DEFAULT_TIMEOUTS, ...init.timeouts };
    for (const [name, value] of Object.entries(timeouts)) {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new ConsensusConfigError(
          "CONSENSUS_INVALID_CONFIG",
          "Timeouts must be finite numbers of milliseconds ≥ 0.",
          { details: { [name]: value } },
        );
      }
    }
    this.#chainId = init.chainId;
    this.#height = init.height;
    this.#validators = init.validators;
    this.#total = totalPower(init.validators);
    this.#timeouts = timeouts;
    this.#indexByKey = new Map(init.validators.map((v, i) => [toHex(v.publicKey), i]));
    this.#selfIndex = init.self ? (this.#indexByKey.get(toHex(init.self)) ?? null) : null;
    this.#futureRounds = init.validators.map(() => []);
    if (init.resume) {
      this.#resumeRound = init.resume.round;
      if (init.resume.lockedValue !== null && init.resume.lockedRound >= 0) {
        this.#lockedValue = init.resume.lockedValue;
        this.#lockedRound = init.resume.lockedRound;
      }
      const { validValue, validRound } = init.resume;
      if (validValue && validRound !== undefined && validRound >= 0) {
        this.#validValue = validValue;
        this.#validRound = validRound;
        // A polka in validRound means we had reached it; resume after it, so a
        // re-proposal's polRound is below its round (L28 needs vr < round), and
        // starting a round later than we were is always safe.
        this.#resumeRound = Math.max(this.#resumeRound, validRound + 1);
      }
    }
  }

  get state(): EngineState {
    let storedVotes = 0;
    for (const round of this.#log.values())
      for (const slot of [...round.prevote.values(), ...round.precommit.values()]) {
        storedVotes += slot.votes.length;
      }
    return {
      chainId: this.#chainId,
      height: this.#height,
      round: this.#round,
      step: this.#step,
      started: this.#started,
      lockedValue: this.#lockedValue,
      lockedRound: this.#lockedRound,
      validValue: this.#validValue,
      validRound: this.#validRound,
      decision: this.#decision,
      storedVotes,
    };
  }

  /** The current round (cheaper than `state`, which counts the stored votes). */
  get round(): number {
    return this.#round;
  }

  /** The valid value and its round (L42-L43), or null. */
  get valid(): { readonly round: number; readonly value: Uint8Array } | null {
    return this.#validValue ? { round: this.#validRound, value: this.#validValue } : null;
  }

  /** Whether we vote at this height (false for an observer). */
  get isValidator(): boolean {
    return this.#selfIndex !== null;
  }

  handle(event: EngineEvent): EngineAction[] {
    // L51: the height is decided; its engine is done.
    if (this.#decision) return [];
    const actions: EngineAction[] = [];
    this.#actions = actions;
    switch (event.type) {
      case "start":
        // L10
        if (!this.#started) {
          this.#started = true;
          this.#startRound(this.#resumeRound);
        }
        break;
      case "proposal":
        this.#receiveProposal(event.proposal, event.valid, event.timely ?? true);
        break;
      case "vote":
        this.#receiveVote(event.vote);
        break;
      case "value":
        this.#receiveValue(event.round, event.blockHash);
        break;
      case "timeout":
        if (this.#started) this.#onTimeout(event.step, event.round);
        break;
    }
    if (this.#started) this.#applyRules();
    this.#actions = [];
    return actions;
  }

  // ---- inputs -------------------------------------------------------------

  /**
   * Whether a proposal of `round` by `proposer` would be used if handed in
   * now: it is the round's proposer, the round is not above ours, and the
   * round has no proposal yet (the first wins). The driver executes a
   * proposed block only when this says yes, so a proposer makes us execute
   * at most one block per round it leads, and only in a round we reached
   * (a proposal for a round ahead waits in the driver until we get there).
   */
  wantsProposal(round: number, proposer: Uint8Array): boolean {
    if (this.#decision || !isRound(round) || round > this.#round) return false;
    const index = proposerIndex(this.#validators, this.#height, round);
    if (!equalBytes(proposer, this.#validators[index]!.publicKey)) return false;
    return !this.#log.get(round)?.proposal;
  }

  /**
   * Every signed proposal and vote the engine holds, for peers that missed
   * them (catch-up) and to justify a re-proposal (the polka's prevotes).
   * Bounded by what the engine keeps (see the module comment): a flood of
   * duplicates or far-future rounds never reaches it.
   */
  messages(): { proposals: SignedProposal[]; votes: SignedVote[] } {
    const proposals: SignedProposal[] = [];
    const votes: SignedVote[] = [];
    for (const round of this.#log.values()) {
      if (round.proposal) proposals.push(round.proposal.signed);
      for (const slots of [round.prevote, round.precommit])
        for (const slot of slots.values()) votes.push(...slot.votes);
    }
    return { proposals, votes };
  }

  #receiveProposal(signed: SignedProposal, valid: boolean, timely: boolean): void {
    const p = signed.proposal;
    if (p.height !== this.#height || !isRound(p.round)) return;
    if (p.polRound !== null && !isRound(p.polRound)) return;
    // L22/L28/L36/L49 all take a proposal only "from proposer(h_p, round)".
    const proposer = proposerIndex(this.#validators, this.#height, p.round);
    if (!equalBytes(p.proposer, this.#validators[proposer]!.publicKey)) return;
    if (!this.#admit(proposer, p.round)) return;
    const round = this.#roundLog(p.round);
    if (round.proposal) return; // first proposal of a round wins
    round.proposal = { signed, valid, timely };
  }

  #receiveVote(signed: SignedVote): void {
    const vote = signed.vote;
    if (vote.height !== this.#height || !isRound(vote.round)) return;
    const index = this.#indexByKey.get(toHex(vote.validator));
    if (index === undefined) return; // not a member of this height's set
    if (!this.#admit(index, vote.round)) return;
    const slots = this.#roundLog(vote.round)[vote.type];
    const slot = slots.get(index);
    if (!slot) {
      slots.set(index, { votes: [signed], reported: false });
    } else {
      // A repeat adds nothing: a validator counts at most once for a value.
      if (slot.votes.some((v) => sameValue(v.vote.blockHash, vote.blockHash))) return;
      // A different value is equivocation: reported once. It still counts for
      // its own value, as in the paper: gossip brings both votes to everyone,
      // in different orders, and "first wins" would leave honest nodes with
      // different counts forever (a polka one sees and another never does),
      // which an equivocator can use to stall the height. Safety does not
      // need first-wins: two quorums share an honest validator, who votes once.
      if (!slot.reported) {
        slot.reported = true;
        this.#actions.push({ type: "evidence", first: slot.votes[0]!, second: signed });
      }
      if (slot.votes.length >= VOTES_KEPT_PER_SIGNER) return;
      slot.votes.push(signed);
    }
    if (vote.type === "precommit") this.#precommitRoundsToCheck.add(vote.round);
    if (index === this.#selfIndex) this.#adoptOwnLock(vote);
  }

  /**
   * Our key's precommit for a block that this engine did not cast: another
   * process with our key (a hot standby's twin, through the same remote
   * signer) locked on it. The key is locked whichever process signed, so
   * this engine holds the lock too (L38-L39), rather than prevote against
   * it and have the signer refuse (signingGuard.ts).
   */
  #adoptOwnLock(vote: Vote): void {
    if (vote.type !== "precommit" || vote.blockHash === null) return;
    if (vote.round <= this.#lockedRound) return;
    this.#lockedValue = vote.blockHash;
    this.#lockedRound = vote.round;
  }

  #receiveValue(round: number, blockHash: Uint8Array): void {
    // L18-L19: getValue() returned; a late answer (we moved on) is dropped.
    if (!this.#awaitingValue || round !== this.#round || this.#step !== "propose") return;
    this.#awaitingValue = false;
    this.#propose(blockHash, -1);
  }

  #onTimeout(step: Step, round: number): void {
    if (round !== this.#round) return;
    if (step === "propose" && this.#step === "propose") {
      // L57-L60: OnTimeoutPropose
      this.#vote("prevote", null);
      this.#step = "prevote";
    } else if (step === "prevote" && this.#step === "prevote") {
      // L61-L64: OnTimeoutPrevote
      this.#vote("precommit", null);
      this.#step = "precommit";
    } else if (step === "precommit") {
      // L65-L67: OnTimeoutPrecommit
      this.#startRound(this.#round + 1);
    }
  }

  // ---- the rules ------------------------------------------------------------

  /** Fires every "upon" rule whose condition holds, until none does. */
  #applyRules(): void {
    for (;;) {
      if (this.#decision) return;
      if (this.#decideIfCommitted()) return;
      if (this.#endRoundOnNilCommit()) continue;
      if (this.#skipRoundIfBehind()) continue;
      if (this.#prevoteOnProposal()) continue;
      if (this.#schedulePrevoteTimeout()) continue;
      if (this.#lockOnPolka()) continue;
      if (this.#precommitNilOnNilPolka()) continue;
      if (this.#schedulePrecommitTimeout()) continue;
      return;
    }
  }

  /** L49-L54: >2/3 precommits for id(v) in any round decide v (see the module comment on the proposal). */
  #decideIfCommitted(): boolean {
    for (const r of this.#precommitRoundsToCheck) {
      this.#precommitRoundsToCheck.delete(r);
      const round = this.#log.get(r);
      if (!round) continue;
      const powerByValue = new Map<string, { blockHash: Uint8Array; power: bigint }>();
      for (const [index, { votes }] of round.precommit) {
        for (const { vote } of votes) {
          if (vote.blockHash === null) continue;
          const key = toHex(vote.blockHash);
          const entry = powerByValue.get(key) ?? { blockHash: vote.blockHash, power: 0n };
          entry.power += this.#validators[index]!.power;
          powerByValue.set(key, entry);
        }
      }
      for (const { blockHash, power } of powerByValue.values()) {
        if (hasQuorum(power, this.#total)) {
          this.#decide(r, blockHash, round);
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Not in the paper: >2/3 nil precommits in our round start the next one at
   * once instead of after timeoutPrecommit (L47/L65). See the module comment.
   */
  #endRoundOnNilCommit(): boolean {
    if (!this.#hasQuorum("precommit", this.#round, null)) return false;
    this.#startRound(this.#round + 1);
    return true;
  }

  /**
   * L55-L56: f+1 messages from a higher round start that round. Here: the
   * highest round r such that validators with more than 1/3 of the power have
   * a message in a round ≥ r (see the module comment).
   */
  #skipRoundIfBehind(): boolean {
    const highest: { round: number; power: bigint }[] = [];
    this.#futureRounds.forEach((rounds, index) => {
      const top = rounds.at(-1);
      if (top !== undefined) highest.push({ round: top, power: this.#validators[index]!.power });
    });
    highest.sort((a, b) => b.round - a.round);
    let power = 0n;
    for (const { round, power: p } of highest) {
      power += p;
      if (moreThanOneThird(power, this.#total)) {
        if (round <= this.#round) return false;
        this.#startRound(round);
        return true;
      }
    }
    return false;
  }

  /** L22-L33: prevote on the proposal of this round. */
  #prevoteOnProposal(): boolean {
    if (this.#step !== "propose") return false;
    const proposal = this.#log.get(this.#round)?.proposal;
    if (!proposal) return false;
    const { blockHash, polRound } = proposal.signed.proposal;
    if (polRound === null) {
      // L22: ⟨PROPOSAL, h, round, v, −1⟩
      // L23: valid(v) ∧ timely(v) ∧ (lockedRound = −1 ∨ lockedValue = v); timely(v) is
      // proposer-based timestamps' addition (module comment), for fresh proposals only.
      const acceptable =
        proposal.valid &&
        proposal.timely &&
        (this.#lockedRound === -1 || sameValue(this.#lockedValue, blockHash));
      this.#vote("prevote", acceptable ? blockHash : null); // L24 / L26
      this.#step = "prevote"; // L27
      return true;
    }
    // L28: ⟨PROPOSAL, h, round, v, vr⟩ ∧ 2f+1 ⟨PREVOTE, h, vr, id(v)⟩, 0 ≤ vr < round.
    // Until that polka arrives we wait; timeoutPropose ends the wait (L57).
    if (polRound >= this.#round || !this.#hasQuorum("prevote", polRound, blockHash)) return false;
    // L29: valid(v) ∧ (lockedRound ≤ vr ∨ lockedValue = v)
    const acceptable =
      proposal.valid && (this.#lockedRound <= polRound || sameValue(this.#lockedValue, blockHash));
    this.#vote("prevote", acceptable ? blockHash : null, polRound); // L30 / L32
    this.#step = "prevote"; // L33
    return true;
  }

  /** L34-L35: 2f+1 prevotes of any kind, for the first time in this round, while in prevote. */
  #schedulePrevoteTimeout(): boolean {
    if (this.#step !== "prevote" || this.#prevoteTimeoutScheduled) return false;
    if (!this.#hasQuorum("prevote", this.#round, "any")) return false;
    this.#prevoteTimeoutScheduled = true;
    this.#scheduleTimeout("prevote");
    return true;
  }

  /** L36-L43: a valid proposal with a polka (2f+1 prevotes for it), step ≥ prevote, first time. */
  #lockOnPolka(): boolean {
    if (this.#polkaHandled || this.#step === "propose") return false;
    const proposal = this.#log.get(this.#round)?.proposal;
    if (!proposal?.valid) return false;
    const { blockHash } = proposal.signed.proposal;
    if (!this.#hasQuorum("prevote", this.#round, blockHash)) return false;
    this.#polkaHandled = true;
    if (this.#step === "prevote") {
      // L38-L39. Only ever raised: a lock taken from our key's precommit in a
      // later round (a twin's, #adoptOwnLock) is what the signer holds.
      if (this.#round >= this.#lockedRound) {
        this.#lockedValue = blockHash; // L38
        this.#lockedRound = this.#round; // L39
      }
      this.#vote("precommit", blockHash); // L40
      this.#step = "precommit"; // L41
    }
    this.#validValue = blockHash; // L42
    this.#validRound = this.#round; // L43
    return true;
  }

  /** L44-L46: 2f+1 nil prevotes while in prevote. */
  #precommitNilOnNilPolka(): boolean {
    if (this.#step !== "prevote" || !this.#hasQuorum("prevote", this.#round, null)) return false;
    this.#vote("precommit", null); // L45
    this.#step = "precommit"; // L46
    return true;
  }

  /** L47-L48: 2f+1 precommits of any kind, for the first time in this round. */
  #schedulePrecommitTimeout(): boolean {
    if (this.#precommitTimeoutScheduled) return false;
    if (!this.#hasQuorum("precommit", this.#round, "any")) return false;
    this.#precommitTimeoutScheduled = true;
    this.#scheduleTimeout("precommit");
    return true;
  }

  // ---- effects ----------------------------------------------------------------

  /** L11-L21: StartRound. */
  #startRound(round: number): void {
    this.#round = round; // L12
    this.#step = "propose"; // L13
    this.#awaitingValue = false;
    this.#prevoteTimeoutScheduled = false;
    this.#polkaHandled = false;
    this.#precommitTimeoutScheduled = false;
    // Messages of this round and below are no longer "future": they stay.
    for (const rounds of this.#futureRounds) {
      while (rounds.length > 0 && rounds[0]! <= round) rounds.shift();
    }
    if (
      this.#selfIndex !== null &&
      proposerIndex(this.#validators, this.#height, round) === this.#selfIndex
    ) {
      // L14
      if (this.#validValue !== null) {
        this.#propose(this.#validValue, this.#validRound); // L15-L16, L19
      } else {
        this.#awaitingValue = true; // L17-L18: getValue(), answered by a "value" event
        this.#actions.push({ type: "request-value", round });
      }
    }
    // L21, for the proposer too (module comment).
    this.#scheduleTimeout("propose");
  }

  /** L19: broadcast ⟨PROPOSAL, h, round, v, validRound⟩. */
  #propose(blockHash: Uint8Array, validRound: number): void {
    const self = this.#selfIndex;
    if (self === null) return;
    this.#actions.push({
      type: "propose",
      proposal: {
        height: this.#height,
        round: this.#round,
        polRound: validRound < 0 ? null : validRound,
        blockHash,
        proposer: this.#validators[self]!.publicKey,
      },
    });
  }

  /** broadcast ⟨PREVOTE|PRECOMMIT, h, round, v⟩; an observer only follows the steps. */
  #vote(type: VoteType, blockHash: Uint8Array | null, polRound: number | null = null): void {
    const self = this.#selfIndex;
    if (self === null) return;
    this.#actions.push({
      type: "vote",
      polRound,
      vote: {
        type,
        height: this.#height,
        round: this.#round,
        blockHash,
        validator: this.#validators[self]!.publicKey,
      },
    });
  }

  #scheduleTimeout(step: Step): void {
    this.#actions.push({
      type: "schedule-timeout",
      step,
      round: this.#round,
      delayMs: timeoutDelay(this.#timeouts, step, this.#round),
    });
  }

  /** L51: decision = v, with the precommits that prove it. */
  #decide(round: number, blockHash: Uint8Array, log: RoundLog): void {
    const signatures: CertificateSignature[] = [];
    for (const [validatorIndex, { votes }] of log.precommit) {
      const signed = votes.find((v) => sameValue(v.vote.blockHash, blockHash));
      if (signed) signatures.push({ validatorIndex, signature: signed.signature });
    }
    signatures.sort((a, b) => a.validatorIndex - b.validatorIndex);
    const certificate: FinalityCertificate = { height: this.#height, round, blockHash, signatures };
    this.#decision = { round, blockHash, certificate };
    this.#actions.push({ type: "decide", round, blockHash, certificate });
  }

  // ---- the message log ---------------------------------------------------------

  /**
   * Whether to keep a message of `validator` for `round`. Rounds up to ours
   * are always kept; above ours, each validator keeps its
   * FUTURE_ROUNDS_PER_VALIDATOR highest rounds, the lowest making way.
   */
  #admit(validator: number, round: number): boolean {
    if (round <= this.#round) return true;
    const rounds = this.#futureRounds[validator]!;
    if (rounds.includes(round)) return true;
    if (rounds.length >= FUTURE_ROUNDS_PER_VALIDATOR) {
      if (round < rounds[0]!) return false;
      this.#forget(validator, rounds.shift()!);
    }
    rounds.push(round);
    rounds.sort((a, b) => a - b);
    return true;
  }

  #forget(validator: number, round: number): void {
    const log = this.#log.get(round);
    if (!log) return;
    log.prevote.delete(validator);
    log.precommit.delete(validator);
    if (log.proposal && proposerIndex(this.#validators, this.#height, round) === validator) {
      log.proposal = null;
    }
    if (!log.proposal && log.prevote.size === 0 && log.precommit.size === 0) {
      this.#log.delete(round);
    }
  }

  #roundLog(round: number): RoundLog {
    let log = this.#log.get(round);
    if (!log) {
      log = { proposal: null, prevote: new Map(), precommit: new Map() };
      this.#log.set(round, log);
    }
    return log;
  }

  /** Whether votes of `type` in `round` for `value` hold more than 2/3 of the power. */
  #hasQuorum(type: VoteType, round: number, value: Tally): boolean {
    const slots = this.#log.get(round)?.[type];
    if (!slots) return false;
    let power = 0n;
    for (const [index, { votes }] of slots) {
      // "any" counts a validator once, whatever it voted; a value counts its votes for it.
      if (value === "any" || votes.some((v) => sameValue(v.vote.blockHash, value))) {
        power += this.#validators[index]!.power;
      }
    }
    return hasQuorum(power, this.#total);
  }
}

/** f+1 by power: more than 1/3, so at least one honest validator is among them. */
function moreThanOneThird(power: bigint, total: bigint): boolean {
  return power * 3n > total;
}

function isRound(round: number): boolean {
  return Number.isSafeInteger(round) && round >= 0 && round <= MAX_ROUND;
}

function sameValue(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return equalBytes(a, b);
}
