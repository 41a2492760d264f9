/**
 * What must hold after every scenario, whatever was broken during it
 * (docs/consensus.md names these):
 *
 *   I1 agreement: no two different finalized blocks at one height, on any
 *      node; every block links to its parent and carries a valid finality
 *      certificate from the set its parent named;
 *   I2 durability: every transaction any node acknowledged as committed is
 *      committed on every node, in the same block at the same index (a node
 *      that dropped that block's body, retainBlocks, must say BLOCK_PRUNED);
 *   I3 no node process died on its own;
 *   I4 validity: a fresh full node syncs the chain from genesis, verifying
 *      everything, and ends at the same blocks.
 *
 * The checker first lets the running nodes converge (bounded), so a node
 * that was just healed or restarted is held to the same chain.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { api } from "@edgeledger/node/testing";
import type {
  BlockJson,
  CertifiedHeaderJson,
  TransactionStatusJson,
  ValidatorsJson,
} from "@edgeledger/sdk/api";
import {
  blockHash,
  decodeBlockHeader,
  decodeFinalityCertificate,
  decodeValidatorSet,
  equalBytes,
  fromHex,
  toHex,
  verifyCommittedHeader,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
import type { TestNetwork } from "./network.ts";

export class InvariantError extends Error {
  override name = "InvariantError";
}

const verifier = createNativeVerifier();

async function getOk<T>(url: string): Promise<T> {
  const r = await api<T>(url);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function checkInvariants(net: TestNetwork, convergeMs = 30_000): Promise<void> {
  if (net.crashed.length > 0) throw new InvariantError(`I3: ${net.crashed.join("; ")}`);
  const nodes = net.running();
  if (nodes.length === 0) return;
  const indexes = nodes.map((n) => n.index);
  const top = Math.max(...(await net.heights(indexes)));
  await net.waitForHeight(top, indexes, convergeMs);

  // I1: one block per height everywhere, linked and certified.
  const genesis = JSON.parse(readFileSync(join(nodes[0]!.home, "genesis.json"), "utf8")) as {
    validators: { publicKey: string }[];
  };
  const genesisKeys = genesis.validators.map((v) => v.publicKey).sort();
  for (const node of nodes) {
    let parent: { hash: Uint8Array; nextValidatorsHash: Uint8Array } | null = null;
    for (let h = 1; h <= top; h++) {
      // The certified header: served for every height, also where a pruning
      // node dropped the block's body (retainBlocks).
      const b = await getOk<CertifiedHeaderJson>(`${node.apiUrl}/v1/headers/${h}`);
      const header = decodeBlockHeader(fromHex(b.headerBytes));
      const certificate = decodeFinalityCertificate(fromHex(b.certificateBytes));
      const set = await getOk<ValidatorsJson>(`${node.apiUrl}/v1/validators?height=${h}`);
      const validators = decodeValidatorSet(fromHex(set.validatorSetBytes));
      if (h === 1) {
        const keys = validators.map((v) => toHex(v.publicKey)).sort();
        if (keys.join() !== genesisKeys.join())
          throw new InvariantError(`I1: node ${node.index} signs height 1 with a non-genesis set`);
      } else if (parent) {
        if (!equalBytes(header.parentHash, parent.hash))
          throw new InvariantError(`I1: node ${node.index} height ${h} does not link to ${h - 1}`);
        if (!equalBytes(header.validatorsHash, parent.nextValidatorsHash))
          throw new InvariantError(
            `I1: node ${node.index} height ${h}: set not announced by parent`,
          );
      }
      try {
        await verifyCommittedHeader(net.chainId, { header, certificate, validators }, verifier);
      } catch (err) {
        throw new InvariantError(
          `I1: node ${node.index} height ${h} is not final: ${(err as Error).message}`,
        );
      }
      parent = { hash: blockHash(header), nextValidatorsHash: header.nextValidatorsHash };
    }
  }
  for (let h = 1; h <= top; h++) {
    const hashes = await Promise.all(
      nodes.map(
        async (n) => (await getOk<CertifiedHeaderJson>(`${n.apiUrl}/v1/headers/${h}`)).header.hash,
      ),
    );
    if (new Set(hashes).size !== 1)
      throw new InvariantError(
        `I1: different finalized blocks at height ${h}: ${nodes.map((n, i) => `node ${n.index} ${hashes[i]}`).join(", ")}`,
      );
  }

  // I4 validity: a fresh full node syncs the whole chain from genesis, checking
  // every certificate, signature and state root on the way, and ends at the
  // same blocks. A block some nodes accepted and others cannot verify (a
  // validity rule that depended on a node's pools) stops it here.
  await net.start(net.auditor.index);
  try {
    await net.waitForHeight(top, [net.auditor.index], convergeMs);
  } catch (err) {
    throw new InvariantError(
      `I4: a fresh full node could not sync to ${top}: ${(err as Error).message}`,
    );
  }
  for (let h = 1; h <= top; h++) {
    const [ours, theirs] = await Promise.all(
      [net.auditor, nodes[0]!].map(
        async (n) => (await getOk<CertifiedHeaderJson>(`${n.apiUrl}/v1/headers/${h}`)).header.hash,
      ),
    );
    if (ours !== theirs)
      throw new InvariantError(
        `I4: the fresh full node has ${ours} at ${h}, node ${nodes[0]!.index} ${theirs}`,
      );
  }

  // I2: what one node acknowledged as committed, every node has, in the same place.
  for (const hash of net.submitted) {
    // A node may never have seen a transaction nobody committed (404): only a
    // commit anywhere obliges every node to hold it.
    const statuses = await Promise.all(
      nodes.map(async (n) => {
        const r = await api<TransactionStatusJson>(`${n.apiUrl}/v1/transactions/${hash}`);
        if (r.status === 404) return { status: "unseen" as const, receipt: undefined };
        if (r.status !== 200)
          throw new Error(`GET transaction ${hash}: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body;
      }),
    );
    const committed = statuses.filter((s) => s.status === "committed");
    if (committed.length === 0) continue;
    const where = new Set(committed.map((s) => `${s.receipt?.height}/${s.receipt?.index}`));
    const { height, index } = committed[0]!.receipt!;
    // Excused only: a node that dropped that block's body (retainBlocks) and says so.
    const pruned = await Promise.all(
      nodes.map(
        async (n, i) =>
          statuses[i]!.status === "unseen" &&
          (await api<{ code?: string }>(`${n.apiUrl}/v1/blocks/${height}`)).body.code ===
            "BLOCK_PRUNED",
      ),
    );
    const holders = committed.length + pruned.filter(Boolean).length;
    if (holders !== nodes.length || where.size !== 1)
      throw new InvariantError(
        `I2: transaction ${hash} is ${statuses.map((s, i) => `${s.status}@${s.receipt?.height ?? "-"} on node ${nodes[i]!.index}`).join(", ")}`,
      );
    const holder = nodes[statuses.findIndex((s) => s.status === "committed")]!;
    const block = await getOk<BlockJson>(`${holder.apiUrl}/v1/blocks/${height}`);
    if (block.txs[index]?.hash !== hash)
      throw new InvariantError(`I2: transaction ${hash} is not at ${height}/${index} in the block`);
  }
}
