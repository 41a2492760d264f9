/**
 * The seams of `createNode`: where another build composes behaviour around
 * the node's parts without the node knowing what it is. The test-only build
 * (testing/faultyNode.ts, testing/faults.ts) plays partitions and Byzantine
 * roles through them; a production node passes none, and then every seam is
 * the identity. Nothing here imports the test build: it depends on this.
 */

import type { ConsensusMessage } from "@edgeledger/sdk/protocol";
import type { ConnectionGater } from "@libp2p/interface";
import type { ProposerChoices } from "./consensus/driver.ts";
import type { SigningKey } from "./consensus/signingGuard.ts";
import type { Host } from "./network/host.ts";

/** Publishes one consensus message on the consensus topic. */
export type PublishConsensus = (message: ConsensusMessage) => void;

export interface NodeHooks {
  /** Gates the host's connections (a partition). */
  readonly gater?: ConnectionGater;
  /** The host, once it runs. */
  started?(host: Host): void;
  /** Stopping: before the host goes. */
  stopping?(): void;
  /**
   * Given the node's key (and the chain it signs for), the key its signing
   * guard signs with. A build that must sign past the guard (an
   * equivocator) keeps the one it is given.
   */
  signer?(key: SigningKey, chainId: string): SigningKey;
  /** Wraps what consensus publishes (the node's own proposals and votes). */
  broadcast?(publish: PublishConsensus): PublishConsensus;
  /** Told of each consensus message delivered from gossip, with the publisher. */
  delivered?(message: ConsensusMessage, publish: PublishConsensus): void;
  /** Wraps the consensus messages this node serves a peer catching up. */
  catchUpReply?(messages: readonly ConsensusMessage[]): readonly ConsensusMessage[];
  /** Wraps each state sync chunk this node serves (statesync/protocol.ts). */
  stateSyncChunk?(chunk: Uint8Array): Uint8Array;
  /** Awaited before each chunk a joining node writes (statesync/join.ts): the test build holds it there. */
  stateSyncChunkWrite?(): Promise<void>;
  /** The block this node proposes: its time and transactions. */
  readonly proposer?: ProposerChoices;
}
