/**
 * The libp2p host (libp2p 3 line): TCP, Noise, Yamux, identify, ping and
 * gossipsub, with a stable peer identity and bounded connections. Owns the
 * transport and the pubsub plumbing; knows nothing of blocks or
 * transactions (gossip.ts binds topics to validators, the node wires them).
 *
 * Gossip payloads authenticate themselves (signed transactions, votes,
 * certificates), so messages go unsigned (StrictNoSign: signing each one
 * with the peer key would cost more than checking the payload) and a
 * message's id is the SHA-256 of its bytes, which also de-duplicates
 * identical payloads from different peers.
 *
 * Peer scoring (peerScore.ts) is built in: the chain's topics are scored,
 * so a rejected message costs its sender, the `peerScore` service hangs up
 * on peers that fall under the disconnect threshold, and the connection
 * gater refuses them until their ban ends.
 */
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { sha256 } from "@edgeledger/sdk/protocol";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { type GossipSub, gossipsub } from "@libp2p/gossipsub";
import { identify } from "@libp2p/identify";
import type { ConnectionGater, Libp2p, PrivateKey } from "@libp2p/interface";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p } from "libp2p";
import {
  banGater,
  defaultPeerScoreOptions,
  gossipScoreParams,
  PeerLedger,
  type PeerScoreOptions,
  type PeerScorer,
  peerScoring,
  scoreThresholds,
} from "./peerScore.ts";

export interface HostOptions {
  /** Multiaddrs to listen on; loopback and a free port by default. */
  readonly listen: readonly string[];
  /** Peers to dial at start (multiaddrs with /p2p/<peer id>), by dialBootstrap. */
  readonly bootstrap: readonly string[];
  /** Most open connections. */
  readonly maxConnections: number;
  /**
   * Gossipsub heartbeat (ms): mesh upkeep, and how long a peer's computed
   * score is cached. Tests shorten it so a verdict shows in the score sooner.
   */
  readonly heartbeatMs: number;
  /** Disconnect threshold, ban length, check interval, memory bounds (peerScore.ts). */
  readonly scoring: PeerScoreOptions;
}

export const defaultHostOptions: HostOptions = {
  listen: ["/ip4/127.0.0.1/tcp/0"],
  bootstrap: [],
  maxConnections: 64,
  heartbeatMs: 1000,
  scoring: defaultPeerScoreOptions,
};

export type Host = Libp2p<{
  pubsub: GossipSub;
  identify: unknown;
  ping: unknown;
  peerScore: PeerScorer;
}>;

/** A new Ed25519 peer identity, and its encoding for the node's home. */
export async function newPeerKey(): Promise<{ key: PrivateKey; encoded: Uint8Array }> {
  const key = await generateKeyPair("Ed25519");
  return { key, encoded: privateKeyToProtobuf(key) };
}

export function decodePeerKey(encoded: Uint8Array): PrivateKey {
  return privateKeyFromProtobuf(encoded);
}

/**
 * `chainId` names the topics that are scored. `gater`: refuses chosen
 * connections (the tests' partitions use it), on top of the ban list.
 */
export async function createHost(
  privateKey: PrivateKey,
  chainId: string,
  options: Partial<HostOptions> = {},
  gater?: ConnectionGater,
): Promise<Host> {
  const o = { ...defaultHostOptions, ...options };
  const ledger = new PeerLedger(o.scoring);
  const host = await createLibp2p({
    privateKey,
    connectionGater: banGater(ledger, gater),
    addresses: { listen: [...o.listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: o.maxConnections },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        globalSignaturePolicy: "StrictNoSign",
        msgIdFn: (msg) => sha256(msg.data),
        // A lone validator still publishes; gossip reaches peers as they join.
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        heartbeatInterval: o.heartbeatMs,
        scoreParams: gossipScoreParams(chainId, ledger, o.scoring),
        scoreThresholds,
      }),
      peerScore: peerScoring(ledger, o.scoring),
    },
  });
  return host;
}

/**
 * Dials the bootstrap peers we are not connected to, in the background.
 * Call it once after every protocol and topic is registered (so a peer that
 * connects finds them), then now and then: a peer that was down, or a link
 * that broke, comes back without anyone restarting. Peers that dial us are
 * kept by libp2p as usual; this only makes sure the configured ones are.
 */
export function dialBootstrap(host: Host, addresses: readonly string[]): void {
  const connected = new Set(host.getConnections().map((c) => c.remotePeer.toString()));
  for (const addr of addresses) {
    const ma = multiaddr(addr);
    const peer = ma.getComponents().find((c) => c.name === "p2p")?.value;
    if (peer !== undefined && connected.has(peer)) continue;
    void host.dial(ma).catch(() => undefined);
  }
}
