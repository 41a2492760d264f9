/**
 * The evidence topic, bound: equivocation evidence gossiped by peers,
 * validated by evidence/gossip.ts and kept in the pool for a block to
 * record. I/O glue only; the rules are in gossip.ts.
 */
import type { DuplicateVoteEvidence, SignatureVerifier } from "@edgeledger/sdk/protocol";
import { toHex } from "@edgeledger/sdk/protocol";
import type { Logger } from "pino";
import type { Chain } from "../chain/chain.ts";
import { bindTopic } from "../network/gossip.ts";
import type { Host } from "../network/host.ts";
import { validateEvidenceMessage } from "./gossip.ts";
import type { EvidencePool } from "./pool.ts";

export interface EvidenceTopicDeps {
  readonly chainId: string;
  readonly chain: Chain;
  readonly verifier: SignatureVerifier;
  readonly pool: EvidencePool;
  readonly log: Logger;
}

export function bindEvidenceTopic(host: Host, topic: string, deps: EvidenceTopicDeps): () => void {
  const { chain, pool, log } = deps;
  const validation = {
    chainId: deps.chainId,
    verifier: deps.verifier,
    headHeight: () => chain.head.height,
    validatorsAt: (height: number) => chain.validatorsAt(height),
    pending: (e: DuplicateVoteEvidence) => pool.has(e),
    recorded: (key: Uint8Array) => chain.accounts.getValue(key),
  };
  return bindTopic<DuplicateVoteEvidence>(host, topic, {
    validate: (data) => validateEvidenceMessage(data, validation),
    onMessage: (e) => {
      if (pool.add(e))
        log.warn({ validator: toHex(e.first.vote.validator) }, "equivocation reported by a peer");
    },
  });
}
