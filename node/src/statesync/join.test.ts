/**
 * Joining by state sync over real libp2p streams, in one process: a
 * one-validator chain with a few hundred accounts and snapshots every 4
 * heights serves an empty node, beside a hostile peer that answers every
 * request honestly except chunks, which it tampers with, relabels for another
 * height, truncates or announces as oversized. The node refuses each bad
 * chunk with its code, bans the peer that sent it, takes that chunk from the
 * honest peer, and ends with the snapshot's exact state, its head at the
 * snapshot height and no block body below it.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accountKey, blockHash, SparseMerkleTree, toHex } from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
import type { PeerId, Stream } from "@libp2p/interface";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Chain } from "../chain/chain.ts";
import { Database } from "../db/database.ts";
import { createHost, type Host, newPeerKey } from "../network/host.ts";
import { createSyncContext, defaultSyncOptions } from "../sync/context.ts";
import { frame, ServingSlots, send } from "../sync/frames.ts";
import { stateSyncProtocol } from "../sync/protocols.ts";
import { addressOf, CHAIN, openTestChain, removeTestDirs } from "../testing/fixtures.ts";
import { commitTransferBlocks, stateSyncGenesis } from "../testing/stateSyncChain.ts";
import { decodeChunk, decodeRequest, encodeChunk, MAX_CHUNK_BYTES } from "./chunks.ts";
import { type JoinTrust, joinByStateSync, nextAttempt } from "./join.ts";
import { StateSyncProgress } from "./progress.ts";
import { StateSyncServer } from "./protocol.ts";
import { Snapshots } from "./snapshots.ts";

const ACCOUNTS = 300;
const genesis = stateSyncGenesis(ACCOUNTS);
const verifier = createNativeVerifier();
const log = pino({ level: "silent" });
const DEADLINES = { idleMs: 2000, totalMs: 10_000 };
const OPTIONS = { ...defaultSyncOptions, requestDeadlines: DEADLINES, serveDeadlines: DEADLINES };

type Behaviour = "tamper" | "otherHeight" | "truncate" | "oversized" | "honest";
/** Chunks the proxy peers served (the "honest" behaviour serves them as they are). */
let chunksServed = 0;

const hosts: Host[] = [];
const dirs: string[] = [];
let server: Awaited<ReturnType<typeof openTestChain>>;
let snapshots: Snapshots;
let honestServer: StateSyncServer;
let honestHost: Host;

async function newHost(): Promise<Host> {
  const host = await createHost((await newPeerKey()).key, CHAIN);
  hosts.push(host);
  return host;
}

/** Honest for every request but chunks, which it spoils as `behaviour` says. */
async function hostilePeer(behaviour: Behaviour): Promise<Host> {
  const host = await newHost();
  const slots = new ServingSlots(8);
  await host.handle(stateSyncProtocol(CHAIN), (stream: Stream) =>
    slots.serve(
      stream,
      DEADLINES,
      "hostile state sync",
      async (reader, deadline) => {
        const first = (await reader.read(1))!;
        const rest = [0, 8, 9, 13][first[0]!]!;
        const tail = rest > 0 ? (await reader.read(rest))! : new Uint8Array();
        const request = decodeRequest(new Uint8Array([...first, ...tail]));
        const frames = await honestServer.reply(request);
        if (request.kind !== "chunk") {
          for (const f of frames) await send(stream, frame(f), deadline);
          return;
        }
        const honest = frames[0]!;
        chunksServed++;
        if (behaviour === "honest") {
          await send(stream, frame(honest), deadline);
        } else if (behaviour === "tamper") {
          const bad = honest.slice();
          bad[bad.length - 1]! ^= 1;
          await send(stream, frame(bad), deadline);
        } else if (behaviour === "otherHeight") {
          const chunk = decodeChunk(honest, request);
          await send(stream, frame(encodeChunk({ ...chunk, height: chunk.height - 4 })), deadline);
        } else if (behaviour === "truncate") {
          // The prefix promises the whole chunk; the stream ends three bytes short.
          await send(stream, frame(honest).subarray(0, 4 + honest.length - 3), deadline);
        } else {
          const prefix = new Uint8Array(4);
          new DataView(prefix.buffer).setUint32(0, MAX_CHUNK_BYTES + 1);
          await send(stream, prefix, deadline);
          await send(stream, honest, deadline);
        }
      },
      14,
    ),
  );
  return host;
}

async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  server = await openTestChain(genesis);
  snapshots = new Snapshots(server.db, server.chain.tree, { interval: 4, keep: 2, depth: 3 });
  await commitTransferBlocks(server.chain, 9, (h, root) => snapshots.onCommit(h, root));
  honestHost = await newHost();
  honestServer = new StateSyncServer({
    ctx: createSyncContext(honestHost, CHAIN, OPTIONS, log, undefined),
    db: server.db,
    tree: server.chain.tree,
    snapshots,
    validatorsAt: (h) => server.chain.validatorsAt(h),
    genesisRoot: server.chain.genesisHeader.stateRoot,
  });
  await honestServer.start();
});

afterAll(async () => {
  for (const h of hosts) await h.stop();
  await server.db.close();
  removeTestDirs();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function emptyNode() {
  const dir = mkdtempSync(join(tmpdir(), "statesync-"));
  dirs.push(dir);
  const db = new Database(dir);
  await db.open();
  const host = await newHost();
  const faults: { peer: string; code: string }[] = [];
  const ctx = createSyncContext(host, CHAIN, OPTIONS, log, (peer: PeerId, code) =>
    faults.push({ peer: peer.toString(), code }),
  );
  return { db, host, ctx, faults };
}

/** A join from the honest peer under `trust` refuses its snapshot (SYNC_BAD_SNAPSHOT), gives up, and makes nothing the head. */
async function expectSnapshotRefused(trust: JoinTrust): Promise<void> {
  const node = await emptyNode();
  await node.host.dial(honestHost.getMultiaddrs()[0]!);
  await waitFor("the peer", () => node.ctx.candidates().length === 1);
  await expect(
    joinByStateSync(
      { ctx: node.ctx, db: node.db, verifier, genesis },
      { trust, perPeer: 2, waitMs: 1000 },
    ),
  ).rejects.toMatchObject({ code: "STATESYNC_NO_SNAPSHOT" });
  expect(node.faults).toContainEqual({
    peer: honestHost.peerId.toString(),
    code: "SYNC_BAD_SNAPSHOT",
  });
  expect(node.db.getMeta("head")).toBeUndefined();
  await node.db.close();
}

/** The account of addressOf(i) under `root`, encoded: what the snapshot holds. */
const stateAt = (tree: SparseMerkleTree, root: Uint8Array, i: number) =>
  tree.get(root, accountKey(addressOf(i)));

describe("the join's attempt record", () => {
  it("keeps the highest earlier height until the join finishes, over any number of killed runs", () => {
    expect(nextAttempt(undefined, 1000)).toEqual({ height: 1000, others: null });
    // Killed at 1000, then at 2000: a third run at 2000 still knows of 1000's nodes.
    const second = nextAttempt(nextAttempt(undefined, 1000), 2000);
    expect(second).toEqual({ height: 2000, others: 1000 });
    expect(nextAttempt(second, 2000)).toEqual({ height: 2000, others: 1000 });
    expect(nextAttempt(second, 3000)).toEqual({ height: 3000, others: 2000 });
    expect(nextAttempt({ height: 500, others: 3000 }, 1000)).toEqual({
      height: 1000,
      others: 3000,
    });
    // A record written before `others` was kept: a bare height.
    expect(nextAttempt(1000, 1000)).toEqual({ height: 1000, others: null });
    expect(nextAttempt(1000, 2000)).toEqual({ height: 2000, others: 1000 });
  });
});

describe("joining by state sync", () => {
  for (const [behaviour, code] of [
    ["tamper", "SYNC_BAD_CHUNK"],
    ["otherHeight", "SYNC_OUT_OF_ORDER"],
    ["truncate", "SYNC_MALFORMED"],
    ["oversized", "SYNC_TOO_LARGE"],
  ] as const)
    it(`refuses a peer whose chunks are ${behaviour} (${code}), bans it, and joins from the honest one`, async () => {
      const hostile = await hostilePeer(behaviour);
      const node = await emptyNode();
      // The hostile peer first, so it is asked for chunks from the start.
      await node.host.dial(hostile.getMultiaddrs()[0]!);
      await node.host.dial(honestHost.getMultiaddrs()[0]!);
      await waitFor("both peers", () => node.ctx.candidates().length === 2);
      const trusted = server.db.getHeader(2)!;
      const result = await joinByStateSync(
        { ctx: node.ctx, db: node.db, verifier, genesis },
        { trust: { height: 2, hash: blockHash(trusted) }, perPeer: 2, waitMs: 10_000 },
      );
      expect(result.height).toBe(8);
      expect(node.faults).toContainEqual({ peer: hostile.peerId.toString(), code });
      expect(node.ctx.penalties.isBanned(hostile.peerId.toString())).toBe(true);
      expect(node.faults.every((f) => f.peer === hostile.peerId.toString())).toBe(true);

      const chain = new Chain(node.db, genesis);
      await chain.init();
      const header8 = server.db.getHeader(8)!;
      expect(chain.head.height).toBe(8);
      // The genesis header was taken from a peer (checked against header 1), not built from its state.
      expect(toHex(chain.genesisHash)).toBe(toHex(server.chain.genesisHash));
      expect(node.db.hasStateNode(server.chain.genesisHeader.stateRoot)).toBe(false);
      expect(toHex(chain.head.hash)).toBe(toHex(blockHash(header8)));
      // Not replayed: no block body at or below the snapshot height.
      for (let h = 1; h <= 8; h++) expect(node.db.getBlock(h)).toBeUndefined();
      for (const i of [1, 2, 150, ACCOUNTS])
        expect(toHex((await stateAt(chain.tree, header8.stateRoot, i))!)).toBe(
          toHex((await stateAt(server.chain.tree, header8.stateRoot, i))!),
        );
      // The next block executes on the synced state, as block sync will do it.
      const exec = await chain.executeBlock(server.db.getBlock(9)!);
      expect(toHex(exec.block.header.stateRoot)).toBe(toHex(server.db.getHeader(9)!.stateRoot));
      await node.db.close();
    });

  it("after a join killed at one snapshot, a join of another deletes the nodes the first left (only the snapshot's tree stays)", async () => {
    // A peer that offers only the older snapshot (4) for the first run.
    const olderHost = await newHost();
    const older = snapshots.at(4)!;
    const olderServer = new StateSyncServer({
      ctx: createSyncContext(olderHost, CHAIN, OPTIONS, log, undefined),
      db: server.db,
      tree: server.chain.tree,
      snapshots: {
        list: () => [older],
        at: (h) => (h === 4 ? older : undefined),
        exported: () => false,
      },
      validatorsAt: (h) => server.chain.validatorsAt(h),
      genesisRoot: server.chain.genesisHeader.stateRoot,
    });
    await olderServer.start();
    const node = await emptyNode();
    await node.host.dial(olderHost.getMultiaddrs()[0]!);
    await waitFor("the peer", () => node.ctx.candidates().length === 1);
    const trust = { height: 2, hash: blockHash(server.db.getHeader(2)!) };
    let writes = 0;
    // "Killed" after three chunks of snapshot 4 are written.
    const killed = joinByStateSync(
      {
        ctx: node.ctx,
        db: node.db,
        verifier,
        genesis,
        beforeChunkWrite: async () => {
          if (++writes > 3) throw new Error("killed");
        },
      },
      { trust, perPeer: 1, waitMs: 10_000 },
    );
    await expect(killed).rejects.toThrow("killed");
    expect(node.db.getMeta("head")).toBeUndefined();
    const tree = new SparseMerkleTree(node.db.stateStore);
    const reachable = (root: Uint8Array) => {
      let n = 0;
      tree.forEachNode(root, () => {
        n++;
      });
      return n;
    };
    // The next run finds snapshot 8 (the honest peer's newest) on another host over the same database.
    const host = await newHost();
    await host.dial(honestHost.getMultiaddrs()[0]!);
    const ctx = createSyncContext(host, CHAIN, OPTIONS, log, undefined);
    await waitFor("the honest peer", () => ctx.candidates().length === 1);
    const result = await joinByStateSync(
      { ctx, db: node.db, verifier, genesis },
      { trust, perPeer: 2, waitMs: 10_000 },
    );
    expect(result.height).toBe(8);
    const root8 = server.db.getHeader(8)!.stateRoot;
    expect(await node.db.stateNodeCount()).toBe(reachable(root8));
    expect(node.db.getMeta("statesyncAttempt")).toBeUndefined();
    expect(node.db.sweepPending).toBeNull();
    await node.db.close();
  });

  it("holds at most four verified chunks for their write, while fetching goes on", async () => {
    const peer = await hostilePeer("honest");
    const node = await emptyNode();
    await node.host.dial(peer.getMultiaddrs()[0]!);
    await waitFor("the peer", () => node.ctx.candidates().length === 1);
    chunksServed = 0;
    let held = 0;
    let maxHeld = 0;
    let release = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    const joined = joinByStateSync(
      {
        ctx: node.ctx,
        db: node.db,
        verifier,
        genesis,
        beforeChunkWrite: async () => {
          held++;
          maxHeld = Math.max(maxHeld, held);
          await released;
          held--;
        },
      },
      {
        trust: { height: 2, hash: blockHash(server.db.getHeader(2)!) },
        perPeer: 2,
        waitMs: 10_000,
      },
    );
    // Four held, and each of the two fetch workers has one more chunk checked and waiting.
    await waitFor("four held writes and six chunks served", () => held >= 4 && chunksServed >= 6);
    // Then nothing moves (the two chunks left are neither fetched nor handed over) until a write
    // ends. The pause cannot make this pass by chance: it only gives an unbounded join time to
    // fetch and hand over the rest (milliseconds here), which would fail the check.
    await new Promise((r) => setTimeout(r, 500));
    expect({ held, chunksServed }).toEqual({ held: 4, chunksServed: 6 });
    release();
    const result = await joined;
    expect(result.chunks).toBe(8);
    expect(chunksServed).toBe(8);
    expect(maxHeld).toBe(4);
    await node.db.close();
  });

  it("refuses a snapshot whose trusted header does not hash to trustHash (SYNC_BAD_SNAPSHOT) and gives up with STATESYNC_NO_SNAPSHOT", async () => {
    await expectSnapshotRefused({ height: 2, hash: blockHash(server.db.getHeader(3)!) });
  });

  it("with light-client trust (rpcServers), joins at the snapshot whose header hash the light client verified, and reports its progress", async () => {
    const node = await emptyNode();
    await node.host.dial(honestHost.getMultiaddrs()[0]!);
    await waitFor("the peer", () => node.ctx.candidates().length === 1);
    const asked: number[] = [];
    const progress = new StateSyncProgress();
    const result = await joinByStateSync(
      { ctx: node.ctx, db: node.db, verifier, genesis, progress },
      {
        trust: {
          verifiedHashAt: async (h) => {
            asked.push(h);
            return blockHash(server.db.getHeader(h)!);
          },
        },
        perPeer: 2,
        waitMs: 10_000,
      },
    );
    expect(result.height).toBe(8);
    expect(asked).toEqual([8]);
    expect(progress.json()).toMatchObject({
      phase: "finishing",
      snapshotHeight: 8,
      chunksDone: result.chunks,
      chunksTotal: result.chunks,
      bytes: result.bytes,
      chunksRefused: 0,
      peers: 1,
    });
    expect(node.db.getMeta("head")).toMatchObject({ height: 8 });
    await node.db.close();
  });

  it("with light-client trust, refuses a peer whose snapshot header is not the verified one (SYNC_BAD_SNAPSHOT)", async () => {
    const other = blockHash(server.db.getHeader(7)!);
    await expectSnapshotRefused({ verifiedHashAt: async () => other });
  });
});
