/**
 * The consensus topic, bound: gossip (and catch-up replies, which carry the
 * same messages) validated by consensus/gossip.ts and handed to the driver.
 * I/O glue only; the rules are in gossip.ts.
 */
import type { ConsensusMessage, SignatureVerifier } from "@edgeledger/sdk/protocol";
import type { Chain } from "../chain/chain.ts";
import { bindTopic } from "../network/gossip.ts";
import type { Host } from "../network/host.ts";
import { type ConsensusGossipDeps, validateConsensusMessage } from "./gossip.ts";

/** Where accepted messages go: the driver's `receive`. */
export type ReceiveConsensus = (message: ConsensusMessage, size: number) => void;

/** The validation deps for `chain`'s consensus messages. */
export function consensusGossipDeps(
  chainId: string,
  chain: Chain,
  verifier: ConsensusGossipDeps["verifier"] & SignatureVerifier,
  behind: (height: number) => void,
): ConsensusGossipDeps {
  return {
    chainId,
    verifier,
    headHeight: () => chain.head.height,
    validatorsAt: (height) => chain.validatorsAt(height),
    behind,
  };
}

/**
 * Checks one consensus message as gossip would and hands it on when
 * accepted; false when it breaks the rules (the peer that sent it is at
 * fault). For messages that come other than by gossip (catch-up replies).
 */
export function admitConsensus(
  data: Uint8Array,
  deps: ConsensusGossipDeps,
  receive: ReceiveConsensus,
): boolean {
  const { verdict, value } = validateConsensusMessage(data, deps);
  if (verdict === "accept" && value) receive(value, data.length);
  return verdict !== "reject";
}

/** Subscribes to the consensus topic; `delivered` hears of each accepted message too. */
export function bindConsensusTopic(
  host: Host,
  topic: string,
  deps: ConsensusGossipDeps,
  receive: ReceiveConsensus,
  delivered?: (message: ConsensusMessage) => void,
): () => void {
  return bindTopic<{ message: ConsensusMessage; size: number }>(host, topic, {
    validate: async (data) => {
      const { verdict, value } = validateConsensusMessage(data, deps);
      return value ? { verdict, value: { message: value, size: data.length } } : { verdict };
    },
    onMessage: ({ message, size }) => {
      receive(message, size);
      delivered?.(message);
    },
  });
}
