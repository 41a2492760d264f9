/**
 * The consensus metrics the dashboard and the alerts read
 * (deploy/grafana/edgeledger.json, deploy/prometheus/alerts.yaml): rounds
 * per committed height, commit latency, the certificates each validator was
 * missing from, the signed power of the last certificate, and the chain's
 * identity. Read from the chain's commit listener (a certificate is
 * committed with its block, by consensus or by block sync alike) and from
 * the phases the driver already reports, so consensus has no hook of its
 * own. Apart from metrics.ts so the two grow without touching each other.
 *
 * Labels are bounded: a validator's series is dropped when it leaves the
 * set, so there are never more than the set's size (MAX_VALIDATORS).
 */
import {
  addressFromPublicKey,
  type FinalityCertificate,
  formatAddress,
  type ValidatorSet,
} from "@edgeledger/sdk/protocol";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Chain } from "../chain/chain.ts";
import type { PhaseObserver } from "../consensus/phases.ts";

export interface ConsensusMetrics {
  /** Counts one committed certificate against the set that signs its height. */
  committed(certificate: FinalityCertificate, validators: ValidatorSet): void;
  /**
   * The driver's phase observer, passing each phase on to `inner`: the
   * phases of a height after its wait for work ("wait") add up to its
   * commit latency, observed at its last phase ("commit").
   */
  phases(inner?: PhaseObserver): PhaseObserver;
}

/** Which validators of `validators` signed `certificate` (a committed one: its indexes are valid). */
export function signedBy(certificate: FinalityCertificate, validators: ValidatorSet): boolean[] {
  const signed = validators.map(() => false);
  for (const s of certificate.signatures) signed[s.validatorIndex] = true;
  return signed;
}

/** The share of the set's power that signed (the quorum is above 2/3). */
export function signedPowerRatio(signed: readonly boolean[], validators: ValidatorSet): number {
  let total = 0n;
  let signing = 0n;
  validators.forEach((v, i) => {
    total += v.power;
    if (signed[i]) signing += v.power;
  });
  // Powers fit a double's integer range by far for a ratio; the quotient is what is shown.
  return total === 0n ? 0 : Number(signing) / Number(total);
}

export function registerConsensusMetrics(registry: Registry, chainId: string): ConsensusMetrics {
  new Gauge({
    name: "edgeledger_chain_info",
    help: "1, labelled by the chain this node follows (chain_id): the dashboard's chain variable",
    labelNames: ["chain_id"] as const,
    registers: [registry],
  }).set({ chain_id: chainId }, 1);
  const rounds = new Histogram({
    name: "edgeledger_consensus_rounds",
    help: "Rounds a committed height took (its certificate's round + 1); 1 is a healthy network",
    buckets: [1, 2, 3, 4, 5, 7, 10, 20],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "edgeledger_consensus_commit_latency_seconds",
    help: "From a height's start with work to this node committing it (heights it committed itself)",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const powerRatio = new Gauge({
    name: "edgeledger_consensus_certificate_power_ratio",
    help: "Share of the validator set's power that signed the last committed certificate",
    registers: [registry],
  });
  const seen = new Counter({
    name: "edgeledger_validator_certificates_total",
    help: "Certificates committed at heights whose validator set held this validator",
    labelNames: ["validator"] as const,
    registers: [registry],
  });
  const missed = new Counter({
    name: "edgeledger_validator_missed_certificates_total",
    help: "Committed certificates that lack this validator's signature (late or absent precommits)",
    labelNames: ["validator"] as const,
    registers: [registry],
  });

  // Addresses and label objects of the current set, worked out again only when the set changes.
  let current: ValidatorSet | null = null;
  let labels: { readonly validator: string }[] = [];
  const labelsOf = (validators: ValidatorSet) => {
    if (validators === current) return labels;
    const next = validators.map((v) => ({
      validator: formatAddress(addressFromPublicKey(v.publicKey)),
    }));
    const kept = new Set(next.map((l) => l.validator));
    for (const old of labels) {
      if (kept.has(old.validator)) continue;
      seen.remove(old);
      missed.remove(old);
    }
    current = validators;
    labels = next;
    return labels;
  };

  let sinceWait = 0;
  return {
    committed(certificate, validators) {
      rounds.observe(certificate.round + 1);
      const signed = signedBy(certificate, validators);
      powerRatio.set(signedPowerRatio(signed, validators));
      labelsOf(validators).forEach((label, i) => {
        seen.inc(label);
        // inc(0) makes the series exist at 0, so a ratio has both sides from the first certificate.
        missed.inc(label, signed[i] ? 0 : 1);
      });
    },
    phases: (inner) => (phase, seconds) => {
      inner?.(phase, seconds);
      if (phase === "wait") return;
      sinceWait += seconds;
      if (phase !== "commit") return;
      latency.observe(sinceWait);
      sinceWait = 0;
    },
  };
}

/** Feeds `metrics` from each commit; returns the function that stops it. */
export function observeConsensus(
  metrics: ConsensusMetrics,
  chain: Pick<Chain, "onHead" | "validatorsAt">,
): () => void {
  return chain.onHead((_head, certificate) =>
    metrics.committed(certificate, chain.validatorsAt(certificate.height)),
  );
}
