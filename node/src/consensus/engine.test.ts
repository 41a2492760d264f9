import {
  type FinalityCertificate,
  proposerIndex,
  type SignedVote,
  toHex,
  type ValidatorSet,
  type VoteType,
  verifyFinalityCertificate,
} from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import { isTimely } from "../chain/blockTime.ts";
import {
  ConsensusEngine,
  DEFAULT_TIMEOUTS,
  type EngineAction,
  type EngineEvent,
  type EngineInit,
  FUTURE_ROUNDS_PER_VALIDATOR,
  type TimeoutConfig,
  VOTES_KEPT_PER_SIGNER,
} from "./engine.ts";
import {
  blockHash,
  CHAIN_ID,
  fakeSignatures,
  makeValidators,
  observerKey,
  realSignatures,
  type SignatureScheme,
  Simulation,
  sameValue,
  seededRandom,
  signProposal,
  signVote,
} from "./testing/harness.ts";

const A = blockHash("A");
const B = blockHash("B");

/** One engine under test; the other validators' messages are written by hand. */
function scripted(options: {
  validators: number;
  self: number | null;
  height?: number;
  powers?: readonly bigint[];
  timeouts?: Partial<TimeoutConfig>;
  resume?: EngineInit["resume"];
}) {
  const height = options.height ?? 1;
  const { validators, keys } = makeValidators(options.validators, options.powers);
  const engine = new ConsensusEngine({
    chainId: CHAIN_ID,
    height,
    validators,
    self: options.self === null ? null : keys[options.self]!.publicKey,
    ...(options.timeouts && { timeouts: options.timeouts }),
    ...(options.resume && { resume: options.resume }),
  });
  const signedVote = (
    from: number,
    type: VoteType,
    round: number,
    value: Uint8Array | null,
  ): SignedVote =>
    signVote(fakeSignatures, keys[from]!, {
      type,
      height,
      round,
      blockHash: value,
      validator: keys[from]!.publicKey,
    });
  const vote = (
    from: number,
    type: VoteType,
    round: number,
    value: Uint8Array | null,
  ): EngineEvent => ({ type: "vote", vote: signedVote(from, type, round, value) });
  const proposal = (
    round: number,
    value: Uint8Array,
    polRound: number | null = null,
    valid = true,
    from = proposerIndex(validators, height, round),
  ): EngineEvent => ({
    type: "proposal",
    valid,
    proposal: signProposal(fakeSignatures, keys[from]!, {
      height,
      round,
      polRound,
      blockHash: value,
      proposer: keys[from]!.publicKey,
    }),
  });
  /** Hands `events` to the engine, feeding its own votes and proposals back like a driver. */
  const feed = (...events: EngineEvent[]): EngineAction[] => {
    const all: EngineAction[] = [];
    const queue = [...events];
    while (queue.length > 0) {
      const actions = engine.handle(queue.shift()!);
      all.push(...actions);
      for (const action of actions) {
        if (action.type === "vote") {
          queue.push({
            type: "vote",
            vote: signVote(fakeSignatures, keys[options.self!]!, action.vote),
          });
        } else if (action.type === "propose") {
          queue.push({
            type: "proposal",
            valid: true,
            proposal: signProposal(fakeSignatures, keys[options.self!]!, action.proposal),
          });
        }
      }
    }
    return all;
  };
  /** Ends `round` the way a stalled round ends: >2/3 nil precommits, then timeoutPrecommit. */
  const endRound = (round: number, from: readonly number[]): EngineAction[] => [
    ...feed(...from.map((v) => vote(v, "precommit", round, null))),
    ...feed({ type: "timeout", step: "precommit", round }),
  ];
  return { engine, validators, keys, height, vote, signedVote, proposal, feed, endRound };
}

/** The votes among `actions`, as "type round value" with A/B/nil names, for readable assertions. */
function votesOf(actions: readonly EngineAction[]): string[] {
  const names = new Map([
    [toHex(A), "A"],
    [toHex(B), "B"],
  ]);
  return actions.flatMap((a) =>
    a.type === "vote"
      ? [
          `${a.vote.type} ${a.vote.round} ${a.vote.blockHash ? (names.get(toHex(a.vote.blockHash)) ?? "?") : "nil"}`,
        ]
      : [],
  );
}

function ofType<T extends EngineAction["type"]>(
  actions: readonly EngineAction[],
  type: T,
): Extract<EngineAction, { type: T }>[] {
  return actions.filter((a): a is Extract<EngineAction, { type: T }> => a.type === type);
}

async function expectValidCertificate(
  certificate: FinalityCertificate,
  validators: ValidatorSet,
  height: number,
  scheme: SignatureScheme,
): Promise<void> {
  await verifyFinalityCertificate(
    certificate,
    { chainId: CHAIN_ID, height, blockHash: certificate.blockHash, validators },
    scheme.verifier,
  );
  const indices = certificate.signatures.map((s) => s.validatorIndex);
  expect(indices).toEqual([...indices].sort((a, b) => a - b));
}

describe("ConsensusEngine: deciding", () => {
  it("a single validator decides alone in round 0, with a certificate that verifies", async () => {
    const sim = new Simulation({ validators: 1, scheme: realSignatures, height: 7 });
    sim.start();
    // No timer may be needed: its own proposal, prevote and precommit come back to it.
    expect(sim.runSynchronously(() => sim.nodes[0]!.decision !== null, 0)).toBe(true);
    const decision = sim.nodes[0]!.decision!;
    expect(decision.round).toBe(0);
    expect(toHex(decision.blockHash)).toBe(toHex(blockHash("block-0-0")));
    expect(decision.certificate.signatures.map((s) => s.validatorIndex)).toEqual([0]);
    await expectValidCertificate(decision.certificate, sim.validators, 7, realSignatures);
    expect(sim.nodes[0]!.engine.state).toMatchObject({ lockedRound: 0, validRound: 0 });
  });

  it("four honest validators decide the proposer's block in round 0, with valid certificates", async () => {
    const sim = new Simulation({ validators: 4, scheme: realSignatures, height: 1 });
    sim.start();
    expect(sim.runSynchronously(() => sim.nodes.every((n) => n.decision), 0)).toBe(true);
    const proposer = proposerIndex(sim.validators, 1, 0);
    for (const node of sim.nodes) {
      expect(node.decision!.round).toBe(0);
      expect(toHex(node.decision!.blockHash)).toBe(toHex(blockHash(`block-${proposer}-0`)));
      expect(node.decision!.certificate.signatures.length).toBeGreaterThanOrEqual(3);
      await expectValidCertificate(node.decision!.certificate, sim.validators, 1, realSignatures);
    }
  });

  it("a silent proposer costs one round: timeouts, then the next proposer's block is decided", () => {
    const silent = proposerIndex(makeValidators(4).validators, 1, 0);
    const sim = new Simulation({ validators: 4, offline: [silent], height: 1 });
    sim.start();
    expect(sim.runSynchronously(() => sim.online.every((n) => n.decision))).toBe(true);
    const next = proposerIndex(sim.validators, 1, 1);
    for (const node of sim.online) {
      expect(node.decision!.round).toBe(1);
      expect(toHex(node.decision!.blockHash)).toBe(toHex(blockHash(`block-${next}-1`)));
      // Round 0 ended by timeoutPropose → nil prevotes → nil precommits, which
      // end the round at once (no timeoutPrecommit: nothing can be decided in it).
      expect(node.signed.get("prevote/0")!.blockHash).toBeNull();
      expect(node.signed.get("precommit/0")!.blockHash).toBeNull();
    }
    expect(sim.now).toBeGreaterThanOrEqual(DEFAULT_TIMEOUTS.proposeMs);
    expect(sim.now).toBeLessThan(DEFAULT_TIMEOUTS.proposeMs + DEFAULT_TIMEOUTS.precommitMs);
  });

  it("an invalid proposal gets nil prevotes and the next round decides", () => {
    const sim = new Simulation({
      validators: 4,
      height: 1,
      validity: (p) => p.round !== 0,
    });
    sim.start();
    expect(sim.runSynchronously(() => sim.nodes.every((n) => n.decision))).toBe(true);
    for (const node of sim.nodes) {
      expect(node.signed.get("prevote/0")!.blockHash).toBeNull();
      expect(node.signed.get("precommit/0")!.blockHash).toBeNull();
      expect(node.decision!.round).toBe(1);
    }
  });

  it("an observer (no key in the set) decides from the validators' votes and never votes", async () => {
    const sim = new Simulation({ validators: 4, observers: 1, scheme: realSignatures });
    sim.start();
    expect(sim.runSynchronously(() => sim.nodes.every((n) => n.decision))).toBe(true);
    const observer = sim.nodes[4]!;
    expect(observer.engine.isValidator).toBe(false);
    expect(observer.signed.size).toBe(0);
    expect(toHex(observer.decision!.blockHash)).toBe(toHex(sim.nodes[0]!.decision!.blockHash));
    await expectValidCertificate(
      observer.decision!.certificate,
      sim.validators,
      sim.height,
      realSignatures,
    );
  });

  it("an observer given only precommits decides from them (no proposal needed)", () => {
    const s = scripted({ validators: 4, self: null });
    s.feed({ type: "start" });
    expect(
      ofType(s.feed(s.vote(0, "precommit", 3, A), s.vote(1, "precommit", 3, A)), "decide"),
    ).toEqual([]);
    const [decide] = ofType(s.feed(s.vote(2, "precommit", 3, A)), "decide");
    expect(decide!.round).toBe(3);
    expect(toHex(decide!.blockHash)).toBe(toHex(A));
  });

  it("with 2 of 4 validators down nothing is decided, however many timeouts fire; it recovers when they return", () => {
    const sim = new Simulation({ validators: 4, offline: [2, 3], height: 1 });
    sim.start();
    expect(sim.runSynchronously(() => sim.nodes.some((n) => n.decision))).toBe(false);
    // Two of four never make 2f+1 of anything: they cannot even leave round 0 by themselves
    // (timeoutPrevote and timeoutPrecommit are scheduled on 2f+1 votes, L34 and L47).
    for (const node of sim.online) expect(node.engine.state.round).toBe(0);
    // Drive every timeout of 200 rounds anyway: rounds pass, nothing is decided.
    for (let round = 0; round < 200; round++) {
      for (const step of ["propose", "prevote", "precommit"] as const) {
        for (const node of sim.online) sim.inject(node.id, { type: "timeout", step, round });
        sim.runUntilQuiet();
      }
    }
    expect(sim.nodes.some((n) => n.decision)).toBe(false);
    for (const node of sim.online) expect(node.engine.state.round).toBe(200);

    sim.bringUp(2);
    sim.bringUp(3);
    sim.redeliverEverything();
    expect(sim.runSynchronously(() => sim.nodes.every((n) => n.decision))).toBe(true);
    const decided = new Set(sim.nodes.map((n) => toHex(n.decision!.blockHash)));
    expect(decided.size).toBe(1);
  });

  it("weighted power: exactly 2/3 does not decide, more than 2/3 does", () => {
    // Powers 3,1,1,1 (total 6): the quorum is > 4.
    const powers = [3n, 1n, 1n, 1n];
    const twoThirds = new Simulation({ validators: 4, powers, offline: [2, 3] });
    twoThirds.start();
    expect(twoThirds.runSynchronously(() => twoThirds.nodes.some((n) => n.decision))).toBe(false);

    const more = new Simulation({ validators: 4, powers, offline: [3] });
    more.start();
    expect(more.runSynchronously(() => more.online.every((n) => n.decision))).toBe(true);
    for (const node of more.online) {
      const signers = node.decision!.certificate.signatures.map((s) => s.validatorIndex);
      const power = signers.reduce((sum, i) => sum + powers[i]!, 0n);
      expect(power * 3n > 6n * 2n).toBe(true);
    }
  });
});

describe("ConsensusEngine: locking", () => {
  it("a validator locked on A prevotes B only for a proposal whose polRound ≥ its lock carries a polka", () => {
    // Height 1, 4 validators: the proposer of round r is (1 + r) % 4, so we (0) propose in round 3.
    const s = scripted({ validators: 4, self: 0 });
    s.feed({ type: "start" });

    // Round 0: A gets a polka; we lock on A and precommit it. Nobody else sees it, round 0 fails.
    expect(votesOf(s.feed(s.proposal(0, A)))).toEqual(["prevote 0 A"]);
    expect(votesOf(s.feed(s.vote(1, "prevote", 0, A), s.vote(2, "prevote", 0, A)))).toEqual([
      "precommit 0 A",
    ]);
    expect(s.engine.state).toMatchObject({ lockedRound: 0, lockedValue: A, validRound: 0 });
    s.endRound(0, [1, 2]);
    expect(s.engine.state.round).toBe(1);

    // Round 1: a fresh proposal of B (polRound -1): the lock holds, we prevote nil (L23).
    expect(votesOf(s.feed(s.proposal(1, B)))).toEqual(["prevote 1 nil"]);
    s.endRound(1, [1, 2, 3]);

    // Round 2: B claiming a polka in round 0 that does not exist: we wait (L28 needs it)...
    expect(votesOf(s.feed(s.proposal(2, B, 0)))).toEqual([]);
    // ...a late round-0 prevote for B, and an equivocating one (evidence), make no polka...
    const late = s.feed(s.vote(3, "prevote", 0, B), s.vote(1, "prevote", 0, B));
    expect(votesOf(late)).toEqual([]);
    expect(ofType(late, "evidence")).toHaveLength(1);
    // ...and timeoutPropose makes us prevote nil (L57).
    expect(votesOf(s.feed({ type: "timeout", step: "propose", round: 2 }))).toEqual([
      "prevote 2 nil",
    ]);

    // Round 3, ours: we re-propose our validValue A with its polRound 0 (L15-L16), no new
    // block, and prevote it: its polka is in round 0, our lockedRound (L28-L30).
    const round3 = s.endRound(2, [1, 2, 3]);
    expect(ofType(round3, "propose")[0]!.proposal).toMatchObject({ round: 3, polRound: 0 });
    expect(votesOf(round3)).toEqual(["prevote 3 A"]);
    // The others prevote B in round 3: a polka for B, which our proposal was not.
    s.feed(s.vote(1, "prevote", 3, B), s.vote(2, "prevote", 3, B), s.vote(3, "prevote", 3, B));
    expect(s.engine.state.lockedValue).toEqual(A);
    s.endRound(3, [1, 2, 3]);

    // Round 4: B with polRound 3 ≥ lockedRound 0, and the round-3 polka is known: prevote B (L29).
    expect(votesOf(s.feed(s.proposal(4, B, 3)))).toEqual(["prevote 4 B"]);
  });

  it("a restarted validator resumes in its round and keeps its lock (from the signing guard)", () => {
    // Before the crash: locked on A in round 0, last signed in round 1.
    const s = scripted({
      validators: 4,
      self: 0,
      resume: { round: 1, lockedRound: 0, lockedValue: A },
    });
    s.feed({ type: "start" });
    expect(s.engine.state).toMatchObject({ round: 1, lockedRound: 0, lockedValue: A });
    // A fresh B in round 1 gets nil: without the lock it would have been a prevote for B.
    expect(votesOf(s.feed(s.proposal(1, B)))).toEqual(["prevote 1 nil"]);
    const fresh = scripted({ validators: 4, self: 0 });
    fresh.feed({ type: "start" });
    fresh.endRound(0, [1, 2, 3]);
    expect(votesOf(fresh.feed(fresh.proposal(1, B)))).toEqual(["prevote 1 B"]);
  });

  it("a precommit of its own key it did not cast (a hot standby's twin) locks it too", () => {
    const s = scripted({ validators: 4, self: 0 });
    s.feed({ type: "start" });
    // Round 0: our twin (same key, another process) precommitted A; we saw no polka ourselves.
    s.feed(s.proposal(0, A), s.vote(0, "precommit", 0, A));
    expect(s.engine.state).toMatchObject({ lockedRound: 0, lockedValue: A });
    s.endRound(0, [1, 2, 3]);
    // Round 1: a fresh B gets nil, as it would from the twin; without the lock it would be B.
    expect(votesOf(s.feed(s.proposal(1, B)))).toEqual(["prevote 1 nil"]);
    // A nil precommit of ours, or one of an older round, moves nothing.
    s.feed(s.vote(0, "precommit", 1, null));
    expect(s.engine.state).toMatchObject({ lockedRound: 0, lockedValue: A });
    // Unlocking as usual: B with a later polka (round 1) is prevoted, and the action says why.
    s.feed(s.vote(1, "prevote", 1, B), s.vote(2, "prevote", 1, B), s.vote(3, "prevote", 1, B));
    s.endRound(1, [1, 2, 3]);
    const round2 = s.feed(s.proposal(2, B, 1));
    expect(votesOf(round2)).toEqual(["prevote 2 B"]);
    expect(ofType(round2, "vote")[0]!.polRound).toBe(1);
  });

  it("keeps a lock taken from its twin's later round when it locks in an earlier one", () => {
    const s = scripted({ validators: 4, self: 0 });
    s.feed({ type: "start" });
    // The twin is ahead: it precommitted B in round 2 while we are in round 0.
    s.feed(s.vote(0, "precommit", 2, B));
    expect(s.engine.state).toMatchObject({ lockedRound: 2, lockedValue: B });
    // A polka for A in round 0 (we prevoted nil: locked) makes us precommit A
    // (the signer refuses it: it signed round 2), but does not lower the lock.
    s.feed(
      s.proposal(0, A),
      s.vote(1, "prevote", 0, A),
      s.vote(2, "prevote", 0, A),
      s.vote(3, "prevote", 0, A),
    );
    expect(s.engine.state).toMatchObject({ lockedRound: 2, lockedValue: B, validRound: 0 });
  });

  it("the proposer of a later round re-proposes its validValue with polRound = validRound", () => {
    const s = scripted({ validators: 4, self: 0 });
    s.feed(
      { type: "start" },
      s.proposal(0, A),
      s.vote(1, "prevote", 0, A),
      s.vote(2, "prevote", 0, A),
    );
    s.endRound(0, [1, 2]);
    s.endRound(1, [1, 2, 3]);
    const actions = s.endRound(2, [1, 2, 3]);
    const [propose] = ofType(actions, "propose");
    expect(propose!.proposal).toMatchObject({ round: 3, polRound: 0, blockHash: A });
    expect(ofType(actions, "request-value")).toEqual([]);
    // Its own proposal with polRound 0 and the round-0 polka: it prevotes A (L28-L30).
    expect(votesOf(actions)).toContain("prevote 3 A");
  });

  it("a polka seen after precommitting nil updates validValue but not the lock (L36, step precommit)", () => {
    const s = scripted({ validators: 4, self: 0 });
    s.feed({ type: "start" }, s.proposal(0, A));
    // Prevotes A (us, 1) and nil (2): 2f+1 of any kind, so timeoutPrevote (L34)...
    const mixed = s.feed(s.vote(1, "prevote", 0, A), s.vote(2, "prevote", 0, null));
    expect(ofType(mixed, "schedule-timeout").map((t) => t.step)).toEqual(["prevote"]);
    // ...which fires before any polka: precommit nil (L61-L64).
    expect(votesOf(s.feed({ type: "timeout", step: "prevote", round: 0 }))).toEqual([
      "precommit 0 nil",
    ]);
    // Validator 3's prevote completes a polka for A: validValue moves, the lock does not.
    expect(votesOf(s.feed(s.vote(3, "prevote", 0, A)))).toEqual([]);
    expect(s.engine.state).toMatchObject({
      validValue: A,
      validRound: 0,
      lockedValue: null,
      lockedRound: -1,
    });
  });
});

describe("ConsensusEngine: votes, evidence and rounds", () => {
  it('counts a validator once per value and once for "any"; a conflicting vote is evidence, reported once', () => {
    const s = scripted({ validators: 4, self: 0 });
    s.feed({ type: "start" }, s.proposal(0, A));
    const first = s.signedVote(1, "prevote", 0, A);
    expect(s.feed({ type: "vote", vote: first })).toEqual([]);
    expect(s.feed(s.vote(1, "prevote", 0, A))).toEqual([]); // a repeat
    const conflicting = s.signedVote(1, "prevote", 0, B);
    const evidence = ofType(s.feed({ type: "vote", vote: conflicting }), "evidence");
    expect(evidence).toEqual([{ type: "evidence", first, second: conflicting }]);
    // Reported once only; and 1's three votes count once for "any": with ours that is
    // 2 of 4, so no timeoutPrevote either (L34).
    expect(s.feed(s.vote(1, "prevote", 0, null))).toEqual([]);
    // A: us and 1 = 2 of 4. Counting the repeat would have made a polka here.
    expect(s.engine.state.lockedRound).toBe(-1);
    expect(votesOf(s.feed(s.vote(2, "prevote", 0, A)))).toEqual(["precommit 0 A"]);

    // Precommits: ours and 1's (three times, once for nil) are 2 of 4 for A: no decision...
    const precommits = s.feed(
      s.vote(1, "precommit", 0, A),
      s.vote(1, "precommit", 0, A),
      s.vote(1, "precommit", 0, null),
    );
    expect(ofType(precommits, "decide")).toEqual([]);
    expect(ofType(precommits, "evidence")).toHaveLength(1);
    // ...until a third validator precommits A; each signer appears once in the certificate.
    const [decide] = ofType(s.feed(s.vote(2, "precommit", 0, A)), "decide");
    expect(decide!.certificate.signatures.map((sig) => sig.validatorIndex)).toEqual([0, 1, 2]);
  });

  it("counts an equivocator's votes for their own values, keeping a bounded number", () => {
    const s = scripted({ validators: 4, self: 0 });
    s.feed({ type: "start" }, s.proposal(0, A));
    // 1 prevotes B, then A: both count (A = us + 1), so with 2's A we have a polka.
    s.feed(s.vote(1, "prevote", 0, B), s.vote(1, "prevote", 0, A));
    expect(votesOf(s.feed(s.vote(2, "prevote", 0, A)))).toEqual(["precommit 0 A"]);
    // Ten different round-0 precommits from 1: only VOTES_KEPT_PER_SIGNER are kept.
    const before = s.engine.state.storedVotes;
    for (let i = 0; i < 10; i++) s.feed(s.vote(1, "precommit", 0, blockHash(`junk-${i}`)));
    expect(s.engine.state.storedVotes - before).toBe(VOTES_KEPT_PER_SIGNER);
  });

  it("skips to a higher round on messages from more than 1/3 of the power, not from fewer", () => {
    const s = scripted({ validators: 4, self: 0 });
    s.feed({ type: "start" });
    expect(s.feed(s.vote(1, "prevote", 5, A))).toEqual([]);
    expect(s.engine.state.round).toBe(0);
    // 1 in round 5 and 2 in round 7: two validators have reached round 5 or beyond (L55).
    const skipped = s.feed(s.vote(2, "precommit", 7, null));
    expect(s.engine.state.round).toBe(5);
    expect(ofType(skipped, "schedule-timeout")).toContainEqual(
      expect.objectContaining({ step: "propose", round: 5 }),
    );
    s.feed(s.vote(3, "prevote", 7, B));
    expect(s.engine.state.round).toBe(7);
  });

  it("skips by power: two of 1/6 each (= 1/3) do not move us, one of 3/6 alone does", () => {
    const s = scripted({ validators: 4, self: 1, powers: [3n, 1n, 1n, 1n] });
    s.feed({ type: "start" });
    s.feed(s.vote(2, "prevote", 4, null), s.vote(3, "prevote", 4, null));
    expect(s.engine.state.round).toBe(0);
    s.feed(s.vote(0, "prevote", 9, null));
    expect(s.engine.state.round).toBe(9); // 0 alone holds half the power
  });

  it("keeps only each validator's highest future rounds, so a flood is bounded and a late node still catches up", () => {
    const s = scripted({ validators: 4, self: 0 });
    s.feed({ type: "start" });
    for (let round = 1; round <= 3000; round++) s.feed(s.vote(1, "prevote", round, null));
    expect(s.engine.state.storedVotes).toBe(FUTURE_ROUNDS_PER_VALIDATOR);
    expect(s.engine.state.round).toBe(0); // one validator alone cannot push us
    // Another validator at round 3000: far beyond any fixed window, and still we follow.
    s.feed(s.vote(2, "prevote", 3000, null));
    expect(s.engine.state.round).toBe(3000);
    expect(s.engine.state.storedVotes).toBe(FUTURE_ROUNDS_PER_VALIDATOR + 1);
  });

  it("timeouts grow linearly with the round", () => {
    const timeouts = {
      proposeMs: 100,
      proposeDeltaMs: 10,
      prevoteMs: 50,
      prevoteDeltaMs: 5,
      precommitMs: 70,
      precommitDeltaMs: 7,
    };
    const s = scripted({ validators: 4, self: 0, timeouts });
    const delays = (actions: EngineAction[]) =>
      ofType(actions, "schedule-timeout").map((t) => `${t.step} ${t.round} ${t.delayMs}`);
    expect(delays(s.feed({ type: "start" }))).toEqual(["propose 0 100"]);
    expect(
      delays(s.feed(s.proposal(0, A), s.vote(1, "prevote", 0, null), s.vote(2, "prevote", 0, B))),
    ).toEqual(["prevote 0 50"]);
    // Split precommits (not >2/3 nil) leave the round to timeoutPrecommit.
    const endByTimeout = (round: number) => [
      ...s.feed(s.vote(1, "precommit", round, null), s.vote(2, "precommit", round, B)),
      ...s.feed(s.vote(3, "precommit", round, A)),
      ...s.feed({ type: "timeout", step: "precommit", round }),
    ];
    expect(delays(endByTimeout(0))).toEqual(["precommit 0 70", "propose 1 110"]);
    endByTimeout(1);
    expect(delays(endByTimeout(2))).toEqual(["precommit 2 84", "propose 3 130"]);
  });

  it("ignores other heights, non-members and proposals not from the round's proposer", () => {
    const s = scripted({ validators: 4, self: 0, height: 5 });
    s.feed({ type: "start" });
    const wrongHeight = scripted({ validators: 4, self: 0, height: 6 });
    expect(s.feed(wrongHeight.vote(1, "prevote", 0, A), wrongHeight.proposal(0, A))).toEqual([]);
    const stranger = observerKey();
    const fromStranger = signVote(fakeSignatures, stranger, {
      type: "prevote",
      height: 5,
      round: 0,
      blockHash: A,
      validator: stranger.publicKey,
    });
    expect(s.feed({ type: "vote", vote: fromStranger })).toEqual([]);
    const notProposer = (proposerIndex(s.validators, 5, 0) + 1) % 4;
    expect(s.feed(s.proposal(0, A, null, true, notProposer))).toEqual([]);
    expect(s.engine.state).toMatchObject({ round: 0, step: "propose", storedVotes: 0 });
  });

  it("keeps messages that arrive before start and acts on them at start", () => {
    const s = scripted({ validators: 4, self: 0 });
    expect(s.feed(s.proposal(0, A))).toEqual([]);
    expect(s.feed({ type: "timeout", step: "propose", round: 0 })).toEqual([]);
    expect(votesOf(s.feed({ type: "start" }))).toEqual(["prevote 0 A"]);
  });

  it("after deciding it handles nothing", () => {
    const s = scripted({ validators: 1, self: 0 });
    const actions = s.feed({ type: "start" });
    expect(ofType(actions, "request-value")).toHaveLength(1);
    expect(ofType(s.feed({ type: "value", round: 0, blockHash: A }), "decide")).toHaveLength(1);
    expect(s.engine.state.decision).not.toBeNull();
    expect(
      s.feed(
        { type: "start" },
        { type: "timeout", step: "precommit", round: 0 },
        s.vote(0, "precommit", 0, B),
        s.proposal(1, B),
      ),
    ).toEqual([]);
  });

  it("rejects a configuration it cannot run", () => {
    expect(
      () => new ConsensusEngine({ chainId: CHAIN_ID, height: 1, validators: [], self: null }),
    ).toThrow(/empty/);
    const { validators } = makeValidators(1);
    expect(
      () =>
        new ConsensusEngine({
          chainId: CHAIN_ID,
          height: 1,
          validators,
          self: null,
          timeouts: { proposeMs: -1 },
        }),
    ).toThrow(/Timeouts/);
  });
});

describe("ConsensusEngine: random schedules (seeded)", () => {
  /** Blocks whose hash starts with a byte below 40 are invalid: about one in six. */
  const validity = (p: { blockHash: Uint8Array }) => p.blockHash[0]! >= 40;

  it.each([
    { validators: 4, byzantine: 1, seeds: 300 },
    { validators: 7, byzantine: 2, seeds: 60 },
  ])(
    "n = $validators with $byzantine equivocating: never two different blocks decided; all decide once the network is reliable",
    async ({ validators, byzantine: f, seeds }) => {
      let decidedInDisorder = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const random = seededRandom(seed);
        const byzantine = Array.from({ length: f }, (_, i) => (seed + i * 3) % validators);
        const sim = new Simulation({ validators, byzantine, height: seed, seed, validity });
        sim.start();
        // Asynchrony: random order, 20% loss, patchy relaying, timers firing at any moment.
        sim.relayRate = 0.2;
        for (let i = 0; i < 3000 && sim.stepRandomly(random); i++);
        if (sim.honest.some((n) => n.decision)) decidedInDisorder++;
        // Then "GST": everything sent reaches everyone, honest nodes relay what they get,
        // and messages beat timers.
        sim.relayRate = 1;
        sim.redeliverEverything();
        const allDecided = sim.runSynchronously(() => sim.honest.every((n) => n.decision), 2000);

        const decisions = sim.honest.flatMap((n) => (n.decision ? [n.decision] : []));
        const blocks = new Set(decisions.map((d) => toHex(d.blockHash)));
        expect(blocks.size, `seed ${seed}: two blocks decided`).toBeLessThanOrEqual(1);
        expect(allDecided, `seed ${seed}: liveness after GST`).toBe(true);
        for (const d of decisions) {
          expect(validity(d), `seed ${seed}: decided an invalid block`).toBe(true);
          await expectValidCertificate(d.certificate, sim.validators, sim.height, sim.scheme);
        }
        // Evidence only ever names an equivocator.
        const equivocators = new Set(byzantine.map((i) => toHex(sim.keys[i]!.publicKey)));
        for (const node of sim.honest) {
          for (const e of node.evidence) {
            expect(equivocators.has(toHex(e.first.vote.validator)), `seed ${seed}`).toBe(true);
            expect(sameValue(e.first.vote.blockHash, e.second.vote.blockHash)).toBe(false);
          }
        }
      }
      // Safety was also tested on decisions taken amid the disorder, not only after it.
      expect(decidedInDisorder).toBeGreaterThan(seeds / 4);
    },
  );

  it("honest validators all decide once the network becomes reliable (after drops and disorder)", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = seededRandom(1000 + seed);
      const sim = new Simulation({ validators: 4, height: seed, seed, validity });
      sim.start();
      for (let i = 0; i < 600 && sim.stepRandomly(random, { dropRate: 0.3 }); i++);
      sim.redeliverEverything();
      expect(
        sim.runSynchronously(() => sim.nodes.every((n) => n.decision)),
        `seed ${seed}`,
      ).toBe(true);
      expect(new Set(sim.nodes.map((n) => toHex(n.decision!.blockHash))).size).toBe(1);
    }
  });
});

describe("ConsensusEngine: proposer-based timestamps and bounded proposals", () => {
  it("prevotes nil on a fresh proposal that is not timely, but votes for it re-proposed with its polka", () => {
    const { validators } = makeValidators(4);
    // Neither round 0's nor round 1's proposer, so every proposal comes from outside.
    const self = [0, 1, 2, 3].find(
      (i) => i !== proposerIndex(validators, 1, 0) && i !== proposerIndex(validators, 1, 1),
    )!;
    const s = scripted({ validators: 4, self });
    const others = [0, 1, 2, 3].filter((i) => i !== self);
    s.feed({ type: "start" });
    const untimely = { ...s.proposal(0, A), timely: false } as EngineEvent;
    expect(votesOf(s.feed(untimely))).toEqual(["prevote 0 nil"]);

    const t = scripted({ validators: 4, self });
    t.feed({ type: "start" });
    // The others saw A timely in round 0 and prevoted it; we never saw that proposal.
    t.feed(...others.map((v) => t.vote(v, "prevote", 0, A)));
    t.endRound(0, others);
    const reproposal = { ...t.proposal(1, A, 0), timely: false } as EngineEvent;
    expect(votesOf(t.feed(reproposal))).toContain("prevote 1 A");
  });

  it("wants one proposal per round, from its proposer, and none for rounds ahead", () => {
    const s = scripted({ validators: 4, self: null });
    s.feed({ type: "start" });
    const p0 = s.validators[proposerIndex(s.validators, s.height, 0)]!.publicKey;
    const p2 = s.validators[proposerIndex(s.validators, s.height, 2)]!.publicKey;
    expect(s.engine.wantsProposal(0, p0)).toBe(true);
    expect(s.engine.wantsProposal(0, p2)).toBe(false); // not round 0's proposer
    expect(s.engine.wantsProposal(2, p2)).toBe(false); // a round we have not reached
    s.feed(s.proposal(0, A));
    expect(s.engine.wantsProposal(0, p0)).toBe(false); // the round has its proposal
  });

  it("serves only what it keeps: a flood of repeated votes is held once", () => {
    const s = scripted({ validators: 4, self: 1 });
    s.feed({ type: "start" });
    for (let i = 0; i < 50; i++) s.feed(s.vote(0, "prevote", 0, A), s.vote(2, "prevote", 0, A));
    const { votes } = s.engine.messages();
    expect(votes.filter((v) => v.vote.type === "prevote")).toHaveLength(2);
  });

  it("resumes with its valid value and re-proposes it with its polRound", () => {
    const height = 1;
    const { validators } = makeValidators(4);
    // The proposer of round 3 restarts knowing A won a polka in round 2.
    const self = proposerIndex(validators, height, 3);
    const s = scripted({
      validators: 4,
      self,
      resume: { round: 3, lockedRound: 2, lockedValue: A, validRound: 2, validValue: A },
    });
    const proposals = ofType(s.feed({ type: "start" }), "propose");
    expect(proposals).toHaveLength(1);
    expect(proposals[0]!.proposal).toMatchObject({ round: 3, polRound: 2 });
    expect(sameValue(proposals[0]!.proposal.blockHash, A)).toBe(true);
  });
});

describe("ConsensusEngine: resuming with a valid value", () => {
  it("starts after the valid round, so its re-proposal's polRound is below its round", () => {
    const { validators } = makeValidators(4);
    const self = proposerIndex(validators, 1, 3);
    // The guard kept a polka of round 2 but nothing this validator signed at this height.
    const s = scripted({
      validators: 4,
      self,
      resume: { round: 0, lockedRound: -1, lockedValue: null, validRound: 2, validValue: A },
    });
    const proposals = ofType(s.feed({ type: "start" }), "propose");
    expect(s.engine.round).toBe(3);
    expect(proposals.map((p) => [p.proposal.round, p.proposal.polRound])).toEqual([[3, 2]]);
  });
});

describe("block time: proposer-based timestamps", () => {
  it("is timely within precision ahead and message delay behind, the delay growing by round", () => {
    const o = { precisionMs: 500, messageDelayMs: 2000 };
    const t = 1_000_000;
    expect(isTimely(t, t, 0, o)).toBe(true);
    expect(isTimely(t, t - 500, 0, o)).toBe(true);
    expect(isTimely(t, t - 501, 0, o)).toBe(false); // stamped too far ahead of our clock
    expect(isTimely(t, t + 2500, 0, o)).toBe(true);
    expect(isTimely(t, t + 2501, 0, o)).toBe(false); // arrived too late for round 0
    expect(isTimely(t, t + 2501, 1, o)).toBe(true); // 2200 ms allowed in round 1
    expect(isTimely(Number.MAX_SAFE_INTEGER, t, 0, o)).toBe(false);
    expect(isTimely(t + 3_600_000, t, 0, o)).toBe(false);
  });
});

describe("ConsensusEngine: a round nobody can decide ends at once", () => {
  it("more than 2/3 nil precommits start the next round without waiting for timeoutPrecommit", () => {
    const s = scripted({ validators: 4, self: null });
    s.feed({ type: "start" });
    const actions = s.feed(...[0, 1, 2].map((v) => s.vote(v, "precommit", 0, null)));
    expect(s.engine.state.round).toBe(1);
    expect(ofType(actions, "schedule-timeout").map((t) => `${t.step} ${t.round}`)).toContain(
      "propose 1",
    );
  });

  it("2/3 nil precommits, or nil and a value mixed, do not: the timeout ends the round", () => {
    const s = scripted({ validators: 4, self: null });
    s.feed({ type: "start" });
    s.feed(s.vote(0, "precommit", 0, null), s.vote(1, "precommit", 0, null));
    s.feed(s.vote(2, "precommit", 0, A));
    expect(s.engine.state.round).toBe(0);
    s.feed({ type: "timeout", step: "precommit", round: 0 });
    expect(s.engine.state.round).toBe(1);
  });
});

describe("ConsensusEngine: every honest validator restarts after split locks", () => {
  // Height 1, round 3 after a restart of all four: x locked on A (round 1),
  // y locked on B (round 2); B won a polka in round 2 that y, z and w saw.
  function restartAll(withValidValues: boolean) {
    const { validators, keys } = makeValidators(4);
    const [x, y, z, w] = [0, 1, 2, 3];
    const polkaB = [y, z, w].map((v) =>
      signVote(fakeSignatures, keys[v]!, {
        type: "prevote",
        height: 1,
        round: 2,
        blockHash: B,
        validator: keys[v]!.publicKey,
      }),
    );
    const resume = (id: number) => {
      const lock =
        id === x
          ? { lockedRound: 1, lockedValue: A }
          : id === y
            ? { lockedRound: 2, lockedValue: B }
            : { lockedRound: -1, lockedValue: null };
      const valid = !withValidValues
        ? {}
        : id === x
          ? { validRound: 1, validValue: A }
          : { validRound: 2, validValue: B };
      return { round: 3, ...lock, ...valid };
    };
    const sim = new Simulation({ validators: 4, height: 1, resume });
    expect(sim.validators).toEqual(validators);
    // What the guard kept with the valid value: its polka, fed in before start (driver.ts).
    if (withValidValues)
      for (const id of [y, z, w]) for (const v of polkaB) sim.inject(id, { type: "vote", vote: v });
    sim.start();
    return sim;
  }

  it("decides, because a restarted proposer still knows the highest polka and re-proposes it", () => {
    const sim = restartAll(true);
    expect(sim.runSynchronously(() => sim.nodes.every((n) => n.decision), 200)).toBe(true);
    for (const n of sim.nodes) expect(sameValue(n.decision!.blockHash, B)).toBe(true);
  });

  it("without the valid values the same network never decides (what persisting them fixes)", () => {
    const sim = restartAll(false);
    expect(sim.runSynchronously(() => sim.nodes.some((n) => n.decision), 200)).toBe(false);
  });
});

describe("ConsensusEngine: L29, unlocking only on a polka at or after the lock", () => {
  function lockedOnAInRound1() {
    const { validators } = makeValidators(4);
    // Round 0's proposer: rounds 1 and 3, whose proposals we judge, are led by others.
    const me = proposerIndex(validators, 1, 0);
    const s = scripted({ validators: 4, self: me });
    const others = [0, 1, 2, 3].filter((i) => i !== me);
    s.feed({ type: "start" });
    // A polka for B in round 0 that we hold, without its proposal.
    s.feed(...others.map((v) => s.vote(v, "prevote", 0, B)));
    s.endRound(0, others);
    // Round 1: A is proposed and wins a polka; we lock on it.
    const locked = votesOf(
      s.feed(s.proposal(1, A), ...others.map((v) => s.vote(v, "prevote", 1, A))),
    );
    expect(locked).toContain("precommit 1 A");
    s.endRound(1, others);
    return { s, others, me };
  }

  it("a locked validator prevotes nil for a block whose polka is older than its lock", () => {
    const { s, others, me } = lockedOnAInRound1();
    expect(s.engine.state).toMatchObject({ lockedRound: 1, round: 2 });
    s.endRound(2, others);
    expect(proposerIndex(s.validators, 1, 3)).not.toBe(me);
    expect(votesOf(s.feed(s.proposal(3, B, 0)))).toEqual(["prevote 3 nil"]);
  });

  it("and for it once its polka is at or after the lock", () => {
    const { s, others } = lockedOnAInRound1();
    s.feed(...others.map((v) => s.vote(v, "prevote", 2, B)));
    s.endRound(2, others);
    expect(votesOf(s.feed(s.proposal(3, B, 2)))).toContain("prevote 3 B");
  });
});
