/**
 * Fault injection for the multi-process tests (test/): a node started by
 * faultyNode.ts re-reads a JSON file and misbehaves as it says. The shipped
 * CLI never loads this; only the test-only entry point does.
 *
 *   { "isolate": ["<peer id>", …] }  refuse and drop connections to these
 *        peers in both directions (a partition, like a firewall rule);
 *   { "equivocate": true }  Byzantine: next to every prevote for a block,
 *        sign (past the signing guard) and send a nil prevote for the same
 *        height and round: two conflicting votes, which is evidence.
 */
import { readFileSync } from "node:fs";
import type { SignedVote, Vote } from "@edgeledger/sdk/protocol";
import type { ConnectionGater, PeerId } from "@libp2p/interface";
import type { Logger } from "pino";
import type { Host } from "../network/host.ts";

interface FaultsFile {
  isolate?: string[];
  equivocate?: boolean;
}

/** How often the faults file is read: fast enough for a test to split a network on cue. */
const POLL_MS = 100;

export class FaultInjector {
  readonly #file: string;
  readonly #log: Logger | null;
  #isolated = new Set<string>();
  #equivocate = false;
  #raw = "";
  #host: Host | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(file: string, log: Logger | null = null) {
    this.#file = file;
    this.#log = log;
    this.#reload();
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

  /** The conflicting votes a Byzantine node sends after `vote` (signed with `sign`, no guard). */
  equivocations(signed: SignedVote, sign: (vote: Vote) => Uint8Array): SignedVote[] {
    const { vote } = signed;
    if (!this.#equivocate || vote.type !== "prevote" || vote.blockHash === null) return [];
    const nil: Vote = { ...vote, blockHash: null };
    return [{ vote: nil, signature: sign(nil) }];
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
    this.#log?.warn({ faults: parsed }, "test faults changed");
    this.#closeIsolated();
  }

  #closeIsolated(): void {
    for (const conn of this.#host?.getConnections() ?? []) {
      if (this.#isolated.has(conn.remotePeer.toString())) conn.abort(new Error("isolated by test"));
    }
  }
}
