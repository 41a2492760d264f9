/**
 * The consensus metrics move as committed certificates and height phases
 * say: rounds, commit latency, each validator's missed certificates, the
 * signed power of the last certificate, the chain's identity.
 */
import type { FinalityCertificate, ValidatorSet } from "@edgeledger/sdk/protocol";
import { addressFromPublicKey, formatAddress } from "@edgeledger/sdk/protocol";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { HeadListener } from "../chain/chain.ts";
import type { HeightPhase } from "../consensus/phases.ts";
import { observeConsensus, registerConsensusMetrics } from "./consensus.ts";

const validator = (seed: number, power: bigint) => ({
  publicKey: new Uint8Array(32).fill(seed),
  power,
});
const SET: ValidatorSet = [
  validator(1, 10n),
  validator(2, 10n),
  validator(3, 10n),
  validator(4, 10n),
];
const address = (i: number) => formatAddress(addressFromPublicKey(SET[i]!.publicKey));

const certificate = (height: number, round: number, signers: number[]): FinalityCertificate => ({
  height,
  round,
  blockHash: new Uint8Array(32),
  signatures: signers.map((validatorIndex) => ({ validatorIndex, signature: new Uint8Array(64) })),
});

/** A chain that only commits what the test hands it, with one set for every height. */
function fakeChain(sets: (height: number) => ValidatorSet = () => SET) {
  const listeners = new Set<HeadListener>();
  return {
    onHead(l: HeadListener) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    validatorsAt: sets,
    commit(cert: FinalityCertificate) {
      for (const l of listeners) l({ height: cert.height } as never, cert, {} as never);
    },
    listeners,
  };
}

/** One sample's value from the registry's text, 0 when absent. */
async function sample(registry: Registry, line: string): Promise<number> {
  const text = await registry.metrics();
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

describe("consensus metrics", () => {
  it("count rounds per committed height and the certificates each validator is missing from", async () => {
    const registry = new Registry();
    const chain = fakeChain();
    const stop = observeConsensus(registerConsensusMetrics(registry, "testnet-1"), chain);
    chain.commit(certificate(1, 0, [0, 1, 2, 3]));
    chain.commit(certificate(2, 2, [0, 1, 2]));
    chain.commit(certificate(3, 0, [0, 1, 2]));
    expect(await sample(registry, "edgeledger_consensus_rounds_count")).toBe(3);
    expect(await sample(registry, "edgeledger_consensus_rounds_sum")).toBe(1 + 3 + 1);
    expect(await sample(registry, 'edgeledger_consensus_rounds_bucket{le="1"}')).toBe(2);
    const missed = (i: number) =>
      sample(registry, `edgeledger_validator_missed_certificates_total{validator="${address(i)}"}`);
    const seen = (i: number) =>
      sample(registry, `edgeledger_validator_certificates_total{validator="${address(i)}"}`);
    expect(await missed(3)).toBe(2);
    expect(await missed(0)).toBe(0);
    expect(await seen(3)).toBe(3);
    expect(await sample(registry, "edgeledger_consensus_certificate_power_ratio")).toBe(0.75);
    expect(await sample(registry, 'edgeledger_chain_info{chain_id="testnet-1"}')).toBe(1);
    stop();
    expect(chain.listeners.size).toBe(0);
  });

  it("drop the series of a validator that left the set, so labels stay bounded by the set", async () => {
    const registry = new Registry();
    const smaller = SET.slice(0, 3);
    const chain = fakeChain((h) => (h < 2 ? SET : smaller));
    observeConsensus(registerConsensusMetrics(registry, "testnet-1"), chain);
    chain.commit(certificate(1, 0, [0, 1, 2]));
    const text = () => registry.metrics();
    expect(await text()).toContain(address(3));
    chain.commit(certificate(2, 0, [0, 1, 2]));
    expect(await text()).not.toContain(address(3));
    expect(
      await sample(registry, `edgeledger_validator_certificates_total{validator="${address(0)}"}`),
    ).toBe(2);
  });

  it("add a height's phases after its wait for work into its commit latency", async () => {
    const registry = new Registry();
    const metrics = registerConsensusMetrics(registry, "testnet-1");
    const inner: string[] = [];
    const observe = metrics.phases((phase) => inner.push(phase));
    const waited: [HeightPhase, number][] = [
      ["wait", 5],
      ["proposal", 0.25],
      ["execute", 0.125],
      ["prevotes", 0.5],
      ["precommits", 0.25],
      ["commit", 0.125],
    ];
    // A height that did not wait (work was there): its first phase is the proposal.
    const direct: [HeightPhase, number][] = [
      ["proposal", 1],
      ["commit", 1],
    ];
    for (const [phase, seconds] of [...waited, ...direct]) observe(phase, seconds);
    // Passed on, every one of them.
    expect(inner).toEqual([...waited, ...direct].map(([phase]) => phase));
    expect(await sample(registry, "edgeledger_consensus_commit_latency_seconds_count")).toBe(2);
    expect(await sample(registry, "edgeledger_consensus_commit_latency_seconds_sum")).toBe(
      1.25 + 2,
    );
  });
});
