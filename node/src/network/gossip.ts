/**
 * Gossip topics and their validators. Every message is decoded and checked
 * before gossipsub forwards it, and the check answers accept, ignore or
 * reject (as in lodestar): reject means the sender sent invalid data and is
 * punished by peer scoring; ignore means valid but not useful (a duplicate,
 * an old height), with no penalty. Nothing else decides punishment.
 * peerScore.ts sets what a reject costs on each topic.
 */

import { bytesKey, sha256 } from "@edgeledger/sdk/protocol";
import { TopicValidatorResult } from "@libp2p/gossipsub";
import type { PeerId } from "@libp2p/interface";
import type { Host } from "./host.ts";

export type GossipVerdict = "accept" | "ignore" | "reject";

export interface TopicHandler<T> {
  /**
   * Decodes and checks a payload; never throws for bad input (answer
   * "reject"). A throw is taken as our own failure (a closed database, a
   * bug) and answered "ignore": not forwarded, and nobody punished for it.
   */
  validate(data: Uint8Array, from: PeerId): Promise<{ verdict: GossipVerdict; value?: T }>;
  /** Called once per accepted message. */
  onMessage(value: T, from: PeerId): void;
}

const RESULT: Record<GossipVerdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
};

/** Accepted values waiting for gossipsub's message event, per topic. */
const MAX_UNDELIVERED = 256;

/** Subscribes to `topic` with `handler`; returns an unsubscribe function. */
export function bindTopic<T>(host: Host, topic: string, handler: TopicHandler<T>): () => void {
  const pubsub = host.services.pubsub;
  // The validated value travels from the validator to the message event by message id.
  const accepted = new Map<string, { value: T; from: PeerId }>();
  pubsub.topicValidators.set(topic, async (from, message) => {
    let outcome: { verdict: GossipVerdict; value?: T };
    try {
      outcome = await handler.validate(message.data, from);
    } catch {
      // Only a verdict says the data is invalid; an honest sender must not lose score
      // because we failed (shutdown, storage error) while checking its message.
      outcome = { verdict: "ignore" };
    }
    if (outcome.verdict === "accept" && outcome.value !== undefined) {
      // Gossipsub delivers an accepted message right after validation; the
      // bound only matters if it ever does not (each value can be a block).
      if (accepted.size >= MAX_UNDELIVERED) accepted.delete(accepted.keys().next().value!);
      accepted.set(key(message.data), { value: outcome.value, from });
    }
    return RESULT[outcome.verdict];
  });
  const onMessage = (event: CustomEvent<{ topic: string; data: Uint8Array }>) => {
    if (event.detail.topic !== topic) return;
    const k = key(event.detail.data);
    const entry = accepted.get(k);
    if (!entry) return;
    accepted.delete(k);
    handler.onMessage(entry.value, entry.from);
  };
  pubsub.addEventListener("message", onMessage as EventListener);
  pubsub.subscribe(topic);
  return () => {
    pubsub.unsubscribe(topic);
    pubsub.removeEventListener("message", onMessage as EventListener);
    pubsub.topicValidators.delete(topic);
  };
}

/** The same id gossipsub gives the message (msgIdFn in host.ts). */
function key(data: Uint8Array): string {
  return bytesKey(sha256(data));
}
