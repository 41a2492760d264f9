/** The pure parts of sync/: the penalty table, catch-up selection, and the frame reader's bound. */
import {
  type ConsensusMessage,
  encodeConsensusMessage,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import { nativeSigner } from "@edgeledger/sdk/protocol/node";
import type { Stream } from "@libp2p/interface";
import { describe, expect, it } from "vitest";
import { CHAIN, keyOf } from "../testing/fixtures.ts";
import { MAX_VOTE_MESSAGE_BYTES, selectCatchUp } from "./catchUp.ts";
import { FrameReader, StreamDeadline } from "./frames.ts";
import { PeerPenalties } from "./peerPenalties.ts";

describe("peer penalties", () => {
  it("bans on one provable fault, disconnects on a second after the ban, weighs stalls less", () => {
    let now = 0;
    const p = new PeerPenalties({}, () => now);
    expect(p.fault("a", "SYNC_MALFORMED")).toBe("banned");
    expect(p.isBanned("a")).toBe(true);
    now += 60_001;
    expect(p.isBanned("a")).toBe(false);
    expect(p.fault("a", "SYNC_BAD_CERTIFICATE")).toBe("disconnect");
    expect(p.fault("b", "SYNC_TIMEOUT")).toBe("noted");
    expect(p.fault("b", "SYNC_TIMEOUT")).toBe("noted");
    expect(p.fault("b", "SYNC_TIMEOUT")).toBe("banned");
  });

  it("remembers a bounded number of peers", () => {
    const p = new PeerPenalties({ maxPeers: 3 }, () => 0);
    for (let i = 0; i < 10; i++) p.fault(`p${i}`, "SYNC_TIMEOUT");
    expect(p.size).toBe(3);
  });
});

const validator = keyOf(9);
function vote(round: number, hashByte: number): ConsensusMessage {
  const v = {
    type: "prevote" as const,
    height: 4,
    round,
    blockHash: new Uint8Array(32).fill(hashByte),
    validator: validator.publicKey,
  };
  return {
    kind: "vote",
    vote: { vote: v, signature: nativeSigner(validator).signSync(voteDigest(CHAIN, v)) },
  };
}

describe("catch-up selection", () => {
  it("serves votes, the latest round's proposal (to vote on) and the most voted for of the rest (to commit)", () => {
    const proposal = (round: number, hashByte: number) =>
      ({
        kind: "proposal",
        proposal: {
          proposal: {
            height: 4,
            round,
            polRound: null,
            blockHash: new Uint8Array(32).fill(hashByte),
            proposer: validator.publicKey,
          },
          signature: new Uint8Array(64),
        },
        block: null,
        polVotes: [],
      }) as unknown as ConsensusMessage;
    const chosen = selectCatchUp([
      proposal(0, 1),
      proposal(7, 9),
      proposal(8, 8),
      proposal(1, 2),
      vote(0, 1),
      vote(1, 2),
      vote(1, 2),
    ]);
    const rounds = chosen
      .filter((m) => m.kind === "proposal")
      .map((m) => (m.kind === "proposal" ? m.proposal.proposal.round : -1));
    // The engine holds one proposal per round, from that round's proposer, and
    // none for rounds ahead: the latest is the one a node catching up must see.
    expect(rounds).toEqual([8, 1]);
    expect(chosen.filter((m) => m.kind === "vote")).toHaveLength(3);
  });

  it("a vote message fits MAX_VOTE_MESSAGE_BYTES", () => {
    expect(encodeConsensusMessage(vote(2 ** 31, 1)).length).toBeLessThanOrEqual(
      MAX_VOTE_MESSAGE_BYTES,
    );
  });
});

/** A stream double: an EventTarget that records pause/resume and aborts. */
function fakeStream() {
  const target = new EventTarget() as EventTarget & Record<string, unknown>;
  Object.assign(target, {
    readStatus: "readable",
    remoteWriteStatus: "writable",
    readBufferLength: 0,
    aborted: null as Error | null,
    pause() {
      target["readStatus"] = "paused";
    },
    resume() {
      target["readStatus"] = "readable";
    },
    abort(err: Error) {
      target["aborted"] = err;
    },
  });
  const push = (bytes: Uint8Array) => {
    const e = new Event("message") as Event & { data: Uint8Array };
    e.data = bytes;
    target.dispatchEvent(e);
  };
  return {
    stream: target as unknown as Stream & { aborted: Error | null; readStatus: string },
    push,
  };
}

describe("frame reader", () => {
  it("refuses a 2^32 − 1 prefix before its bytes, and a total beyond the limit", async () => {
    const { stream, push } = fakeStream();
    const deadline = new StreamDeadline(stream, { idleMs: 1000, totalMs: 1000 }, "test");
    const reader = new FrameReader(stream, deadline, 1 << 20);
    push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await expect(reader.frame(4096, "A tx")).rejects.toMatchObject({ code: "SYNC_TOO_LARGE" });
    expect(stream.aborted).not.toBeNull();
    deadline.clear();

    const b = fakeStream();
    const d2 = new StreamDeadline(b.stream, { idleMs: 1000, totalMs: 1000 }, "test");
    const r2 = new FrameReader(b.stream, d2, 10_000);
    for (let i = 0; i < 20; i++) b.push(new Uint8Array(1000));
    await expect(r2.read(4)).rejects.toMatchObject({ code: "SYNC_TOO_LARGE" });
    expect(r2.peakBuffered).toBeLessThanOrEqual(10_000);
    d2.clear();
  });

  it("pauses the stream once it holds the frame plus 64 KiB, and times out a silent peer", async () => {
    const { stream, push } = fakeStream();
    const deadline = new StreamDeadline(stream, { idleMs: 50, totalMs: 5000 }, "test");
    const reader = new FrameReader(stream, deadline, 1 << 24);
    for (let i = 0; i < 70; i++) push(new Uint8Array(1024));
    expect(stream.readStatus).toBe("paused");
    await reader.read(70 * 1024);
    await expect(reader.read(1)).rejects.toMatchObject({ code: "SYNC_TIMEOUT" });
    expect(stream.aborted).toMatchObject({ code: "SYNC_TIMEOUT" });
  });
});
