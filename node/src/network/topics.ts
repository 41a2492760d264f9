/**
 * The gossip topics' names: what the host's peer scoring (peerScore.ts)
 * and the topic bindings (gossip.ts) both name, so neither imports the other.
 */

/** `txs`: batches of transactions (txGossip.ts); `consensus`: proposals and votes; `evidence`: equivocations. */
export type GossipKind = "txs" | "consensus" | "evidence";

export function topicName(chainId: string, kind: GossipKind): string {
  return `/edgeledger/${chainId}/${kind}/1`;
}

/** Every topic of `chainId`, by kind. */
export function topicsOf(chainId: string): Readonly<Record<GossipKind, string>> {
  return {
    txs: topicName(chainId, "txs"),
    consensus: topicName(chainId, "consensus"),
    evidence: topicName(chainId, "evidence"),
  };
}
