/**
 * Fault injection for the multi-process tests (test/): a node started by
 * faultyNode.ts re-reads a JSON file and misbehaves as it says, acting only
 * through createNode's seams (hooks.ts). The shipped CLI never loads this;
 * only the test-only entry point does.
 *
 *   { "isolate": ["<peer id>", …] }  refuse and drop connections to these
 *        peers in both directions (a partition, like a firewall rule);
 *   { "equivocate": true }  next to every prevote for a block, sign (past
 *        the signing guard) and send a nil prevote for the same height and
 *        round: two conflicting votes, which is evidence;
 *   { "roles": [ByzantineRole, …] }  the other Byzantine behaviours below.
 *
 * Every role plays one attack of issue 11 against the honest validators;
 * each has a scenario in test/scenarios/byzantine*.test.ts.
 */
import { readFileSync } from "node:fs";
import {
  type Block,
  blockHash,
  type ConsensusMessage,
  encodeSignedTransaction,
  MAX_BLOCK_TXS,
  merkleRoot,
  type Proposal,
  proposalDigest,
  type SignedVote,
  type Vote,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import type { ConnectionGater, PeerId } from "@libp2p/interface";
import type { Logger } from "pino";
import type { ProposerChoices } from "../consensus/driver.ts";
import type { NodeHooks } from "../hooks.ts";
import type { PendingTx } from "../mempool/mempool.ts";
import type { Host } from "../network/host.ts";

export const BYZANTINE_ROLES = [
  /** Proposes blocks holding a pending transaction with its signature swapped for a bad one. */
  "swap-signature",
  /** Stamps its blocks an hour ahead. */
  "future-time",
  /** Stamps its blocks with the largest time there is (no later block could follow). */
  "max-time",
  /** Proposes maximum-size blocks (that do not execute) in every round it leads. */
  "max-size",
  /** Re-publishes every proposal it receives with the body swapped (the real header and signature). */
  "swap-body",
  /** Next to each vote, signs votes for far-future rounds; serves catch-up with every message repeated. */
  "flood-votes",
  /** Sends no proposal and no vote. */
  "silent",
  /** Serves state sync chunks with their last byte flipped (statesync/). */
  "bad-chunks",
  /** Not Byzantine: joining by state sync, writes two chunks, then holds the others until the role is removed (a crash mid-join). */
  "hold-join",
] as const;
export type ByzantineRole = (typeof BYZANTINE_ROLES)[number];

interface FaultsFile {
  isolate?: string[];
  equivocate?: boolean;
  roles?: ByzantineRole[];
}

/** How often the faults file is read: fast enough for a test to split a network on cue. */
const POLL_MS = 100;
/** Far-future rounds a vote flooder signs next to each real vote. */
const FLOOD_ROUNDS = 16;
/** Copies of each message a flooder serves in a catch-up reply. */
const FLOOD_COPIES = 20;

export interface RawSigners {
  vote(vote: Vote): Uint8Array;
  proposal(proposal: Proposal): Uint8Array;
}

export class FaultInjector {
  readonly #file: string;
  readonly #log: Logger | null;
  #isolated = new Set<string>();
  #equivocate = false;
  #roles = new Set<ByzantineRole>();
  #raw = "";
  #host: Host | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(file: string, log: Logger | null = null) {
    this.#file = file;
    this.#log = log;
    this.#reload();
  }

  has(role: ByzantineRole): boolean {
    return this.#roles.has(role);
  }

  /** Refuses every connection, either way, with an isolated peer. */
  readonly gater: ConnectionGater = {
    denyDialPeer: (peer: PeerId) => this.#isolated.has(peer.toString()),
    denyInboundEncryptedConnection: (peer: PeerId) => this.#isolated.has(peer.toString()),
    denyOutboundEncryptedConnection: (peer: PeerId) => this.#isolated.has(peer.toString()),
  };

  /** Starts watching the file; connections to newly isolated peers are closed. */
  attach(host: Host): void {
    this.#host = host;
    this.#timer = setInterval(() => this.#reload(), POLL_MS);
    this.#timer.unref();
    this.#closeIsolated();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#host = null;
  }

  /** The seams of createNode (hooks.ts) through which these faults act. */
  hooks(): NodeHooks {
    let raw: RawSigners | null = null;
    return {
      gater: this.gater,
      started: (host) => this.attach(host),
      stopping: () => this.stop(),
      // Keeps the guard's key to sign past the guard; the guard gets it unchanged.
      signer: (key, chainId) => {
        raw = {
          vote: (v) => key.signSync(voteDigest(chainId, v)),
          proposal: (p) => key.signSync(proposalDigest(chainId, p)),
        };
        return key;
      },
      broadcast: (publish) => (message) => {
        const out = !raw
          ? [message]
          : message.kind === "vote"
            ? this.outgoingVotes(message.vote, raw).map(
                (vote): ConsensusMessage => ({ kind: "vote", vote }),
              )
            : this.outgoingProposal(message, raw);
        for (const m of out) publish(m);
      },
      delivered: (message, publish) => {
        for (const m of this.relayed(message)) publish(m);
      },
      catchUpReply: (messages) => this.catchUpReply(messages),
      stateSyncChunk: (chunk) => this.stateSyncChunk(chunk),
      stateSyncChunkWrite: () => this.stateSyncChunkWrite(),
      proposer: this.proposerChoices,
    };
  }

  /** The Byzantine proposer's choices (ProposerChoices of the consensus driver). */
  readonly proposerChoices: ProposerChoices = {
    blockTime: (honest: number): number => {
      if (this.has("max-time")) return Number.MAX_SAFE_INTEGER;
      if (this.has("future-time")) return honest + 3_600_000;
      return honest;
    },
    candidates: (honest: readonly PendingTx[]): readonly PendingTx[] => {
      const first = honest[0];
      if (!this.has("swap-signature") || !first) return honest;
      const signature = Uint8Array.from(first.stx.signature);
      signature[0] = signature[0]! ^ 1;
      const stx = { tx: first.stx.tx, signature };
      return [{ ...first, stx, bytes: encodeSignedTransaction(stx) }, ...honest.slice(1)];
    },
  };

  /** What goes out instead of our own proposal message. */
  outgoingProposal(message: ConsensusMessage, sign: RawSigners): ConsensusMessage[] {
    if (this.has("silent")) return [];
    if (message.kind !== "proposal" || !this.has("max-size")) return [message];
    const filler = message.block.txs[0];
    if (!filler) return [message];
    // As many copies of one transaction as a block may hold: the roots
    // match, the proposal is signed, and it fails at the second copy.
    const txs = new Array(Math.min(MAX_BLOCK_TXS, 18_000)).fill(filler);
    const header = {
      ...message.block.header,
      txCount: txs.length,
      txRoot: merkleRoot(txs.map(encodeSignedTransaction)),
    };
    const block: Block = { ...message.block, header, txs };
    const proposal = { ...message.proposal.proposal, blockHash: blockHash(header) };
    return [
      {
        kind: "proposal",
        proposal: { proposal, signature: sign.proposal(proposal) },
        block,
        polVotes: [],
      },
    ];
  }

  /** The votes sent with (or instead of) our own `signed` vote. */
  outgoingVotes(signed: SignedVote, sign: RawSigners): SignedVote[] {
    if (this.has("silent")) return [];
    const out = [signed];
    const { vote } = signed;
    if (this.#equivocate && vote.type === "prevote" && vote.blockHash !== null) {
      const nil: Vote = { ...vote, blockHash: null };
      out.push({ vote: nil, signature: sign.vote(nil) });
    }
    if (this.has("flood-votes"))
      for (let i = 1; i <= FLOOD_ROUNDS; i++) {
        const far: Vote = { ...vote, round: vote.round + 1000 * i, blockHash: null };
        out.push({ vote: far, signature: sign.vote(far) });
      }
    return out;
  }

  /** What a Byzantine relayer publishes after receiving a peer's message. */
  relayed(message: ConsensusMessage): ConsensusMessage[] {
    if (!this.has("swap-body") || message.kind === "vote") return [];
    // A compact proposal's list of leaves, likewise: one fewer than its header commits to.
    if (message.kind === "compact-proposal")
      return message.txLeaves.length > 0
        ? [{ ...message, txLeaves: message.txLeaves.slice(1) }]
        : [];
    const txs = message.block.txs;
    // Any body the header does not commit to: one transaction fewer, or a made-up one.
    const swapped = txs.length > 0 ? txs.slice(1) : [];
    if (txs.length === 0) return [];
    return [{ ...message, block: { ...message.block, txs: swapped } }];
  }

  /** A catch-up reply as this node serves it. */
  catchUpReply(messages: readonly ConsensusMessage[]): readonly ConsensusMessage[] {
    if (!this.has("flood-votes")) return messages;
    return messages.flatMap((m) => new Array<ConsensusMessage>(FLOOD_COPIES).fill(m));
  }

  /** Before a chunk this node joins with is written: "hold-join" lets two through, then waits. */
  async stateSyncChunkWrite(): Promise<void> {
    if (this.#joinWrites++ < 2) return;
    // The faults file is re-read within a fraction of a second of a change; the test kills the node meanwhile.
    while (this.has("hold-join")) await new Promise((r) => setTimeout(r, 100));
  }

  #joinWrites = 0;

  /** A state sync chunk as this node serves it. */
  stateSyncChunk(chunk: Uint8Array): Uint8Array {
    if (!this.has("bad-chunks") || chunk.length === 0) return chunk;
    const bad = chunk.slice();
    bad[bad.length - 1]! ^= 1;
    return bad;
  }

  #reload(): void {
    let raw = "";
    try {
      raw = readFileSync(this.#file, "utf8");
    } catch {
      // No file: no faults.
    }
    if (raw === this.#raw) return;
    this.#raw = raw;
    let parsed: FaultsFile = {};
    try {
      parsed = raw ? (JSON.parse(raw) as FaultsFile) : {};
    } catch {
      return; // half-written; the next poll reads it whole
    }
    this.#isolated = new Set(parsed.isolate ?? []);
    this.#equivocate = parsed.equivocate === true;
    this.#roles = new Set((parsed.roles ?? []).filter((r) => BYZANTINE_ROLES.includes(r)));
    this.#log?.warn({ faults: parsed }, "test faults changed");
    this.#closeIsolated();
  }

  #closeIsolated(): void {
    for (const conn of this.#host?.getConnections() ?? []) {
      if (this.#isolated.has(conn.remotePeer.toString())) conn.abort(new Error("isolated by test"));
    }
  }
}
