/**
 * Joining by state sync: a node with an empty database takes the state at
 * a recent snapshot height from its peers instead of replaying every block.
 *
 *   1. Ask every peer for its snapshots; pick the highest height ≥ the
 *      trusted height (statesync.trustHeight; any height with rpcServers)
 *      that a peer offers.
 *   2. Trust, in one of two forms. Config: the header at trustHeight must
 *      hash to statesync.trustHash; from it, the snapshot height's header
 *      is verified by its certificate (the light client's skipping rule,
 *      headerChain.ts). Light client (statesync.rpcServers, rpcTrust.ts):
 *      the snapshot height's header is verified from genesis over HTTP, and
 *      the peer's must be that one, final under its set. Either way its
 *      state root is the one the state must have. Offers of another root
 *      are SYNC_BAD_SNAPSHOT.
 *   3. The manifest (chunks.ts) must join to that root; then the chunks
 *      are fetched from all offering peers in parallel, each checked as it
 *      arrives (on a worker thread, chunkVerifier.ts) and written in a
 *      batch of its own. A peer whose chunk fails
 *      is scored and asked nothing more; its chunk goes to another peer.
 *   4. One synced batch records the header, certificate, validator
 *      schedule, genesis record and head (Database.finishStateSync);
 *      Chain.init then starts from there, and block sync takes the node to
 *      the head.
 *
 * A crash (kill -9) before step 4 leaves no head, so the next start joins
 * again; a chunk whose subtree root is already in the state store was
 * written whole by the killed run (one batch a chunk, the root in it) and
 * is not fetched again: the join resumes. Each run records the snapshot
 * height it fetches (meta "statesyncAttempt", with the highest height an
 * earlier killed run fetched, kept until the join finishes); a run that finds another
 * height there (the killed run took an older or newer snapshot) knows that
 * nodes of that snapshot's changed subtrees are on disk, in no tree it
 * will have, so step 4's batch records a sweep (Database.sweepState) and the
 * join runs it before it returns: nothing but the tree at the snapshot
 * height stays. (A killed run at a height above this one's leaves its
 * nodes born above it: the pruner's sweep takes them once the oldest kept
 * height passes that one, on a pruning node.)
 */
import {
  BaseError,
  blockHash,
  decodeValidatorSet,
  encodeValidatorSet,
  equalBytes,
  HeaderChainError,
  type NodeWrite,
  type SignatureVerifier,
  SparseMerkleTree,
  type SubtreeRef,
  toHex,
  validatorSetHash,
  verifyCommittedHeader,
  verifySkippingHeader,
} from "@edgeledger/sdk/protocol";
import type { PeerId } from "@libp2p/interface";
import { SCHEDULE_META } from "../chain/chain.ts";
import { type Genesis, genesisHeader } from "../chain/genesis.ts";
import { genesisRecord } from "../chain/genesisBuild.ts";
import type { Database } from "../db/database.ts";
import { VALIDATOR_SET_KEY } from "../state/ledger.ts";
import type { SyncContext } from "../sync/context.ts";
import { SyncError } from "../sync/errors.ts";
import {
  decodeHeaderReply,
  decodeManifest,
  decodeSnapshotList,
  type HeaderReply,
  type SnapshotInfo,
  verifyManifest,
} from "./chunks.ts";
import { inlineVerifier, startChunkVerifier } from "./chunkVerifier.ts";
import type { StateSyncProgress } from "./progress.ts";
import { requestStateSync } from "./protocol.ts";
import { StateSyncTrustError } from "./rpcTrust.ts";

/** Where the snapshot header's trust comes from (module comment, step 2). */
export type JoinTrust =
  /** statesync.trustHeight / trustHash: the header at `height` must hash to `hash` (from a node the operator trusts). */
  | { readonly height: number; readonly hash: Uint8Array }
  /** statesync.rpcServers: the hash the header at a height must have, verified from genesis (rpcTrust.ts). */
  | { readonly verifiedHashAt: (height: number) => Promise<Uint8Array> };

export interface JoinOptions {
  readonly trust: JoinTrust;
  /** Chunk requests in flight per peer. */
  readonly perPeer: number;
  /** Give up when no peer offers a snapshot for this long. */
  readonly waitMs: number;
}

export interface JoinDeps {
  readonly ctx: SyncContext;
  readonly db: Database;
  readonly verifier: SignatureVerifier;
  /** The genesis: its set is the base of the validator schedule; its header is checked against header 1. */
  readonly genesis: Genesis;
  /** Told each phase, chunk and refusal (GET /v1/health, metrics). */
  readonly progress?: StateSyncProgress;
  /** Awaited before each chunk is written (hooks.ts: the test build holds a join there to kill it). */
  readonly beforeChunkWrite?: () => Promise<void>;
}

export interface JoinResult {
  readonly height: number;
  readonly chunks: number;
  readonly bytes: number;
  /** Peers that served at least one chunk. */
  readonly peers: number;
}

/** The join found no snapshot it could verify in time: the node does not start (nothing was made its head). */
export class StateSyncJoinError extends BaseError<"STATESYNC_NO_SNAPSHOT"> {
  override name = "StateSyncJoinError";
}

export async function joinByStateSync(deps: JoinDeps, options: JoinOptions): Promise<JoinResult> {
  const { progress } = deps;
  const deadline = Date.now() + options.waitMs;
  const from = "height" in options.trust ? options.trust.height : 1;
  for (;;) {
    progress?.phase("discovering");
    const offers = await listOffers(withRefusals(deps), from);
    const best = Math.max(...offers.map((o) => o.snapshot.height));
    const atBest = offers.filter((o) => o.snapshot.height === best);
    if (atBest.length > 0) {
      const done = await tryJoin(deps, options, atBest);
      if (done) return done;
    }
    if (Date.now() > deadline)
      throw new StateSyncJoinError(
        "STATESYNC_NO_SNAPSHOT",
        `No peer offered a snapshot at or above height ${from} that verifies, within ${options.waitMs} ms. Fix: check statesync.trustHeight/trustHash (or rpcServers) and that peers set statesync.snapshotInterval.`,
      );
    // Peers connect (and take snapshots) on their own schedule: look again shortly.
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The sync context whose fault reports also reach the progress (refusals by code). */
function withRefusals(deps: JoinDeps): SyncContext {
  const { ctx, progress } = deps;
  if (!progress) return ctx;
  return {
    ...ctx,
    report: (peer, err, what) => {
      progress.refused(err, what === "state sync chunk");
      ctx.report(peer, err, what);
    },
  };
}

interface Offer {
  readonly peer: PeerId;
  readonly snapshot: SnapshotInfo;
}

async function listOffers(ctx: SyncContext, from: number): Promise<Offer[]> {
  const offers: Offer[] = [];
  await Promise.all(
    ctx.candidates().map(async (peer) => {
      try {
        const [bytes] = await requestStateSync(ctx, peer, { kind: "list" });
        for (const snapshot of decodeSnapshotList(bytes!))
          if (snapshot.height >= from) offers.push({ peer, snapshot });
      } catch (err) {
        ctx.report(peer, err, "state sync list");
      }
    }),
  );
  return offers;
}

/** One attempt at the offers of one height; null if no peer's answers verified (the caller looks again). */
async function tryJoin(
  deps: JoinDeps,
  options: JoinOptions,
  offers: readonly Offer[],
): Promise<JoinResult | null> {
  const ctx = withRefusals(deps);
  const { progress } = deps;
  const height = offers[0]!.snapshot.height;
  progress?.phase("verifying", height);
  const { trust } = options;
  let verifiedHash: Uint8Array | null = null;
  if ("verifiedHashAt" in trust) {
    try {
      verifiedHash = await trust.verifiedHashAt(height);
    } catch (err) {
      // Too few servers agree yet (some down, or behind this height): look again. A fork stops the join.
      if (err instanceof StateSyncTrustError && err.code === "STATESYNC_RPC_TOO_FEW") {
        progress?.refused(err, false);
        deps.ctx.log.warn({ err }, "state sync: the header is not verified by enough servers yet");
        return null;
      }
      throw err;
    }
  }
  const certified = await firstGood(ctx, offers, "state sync header", (peer) =>
    "height" in trust
      ? verifiedHeader(deps, trust, peer, height)
      : lightClientHeader(deps, peer, height, verifiedHash!),
  );
  if (!certified) return null;
  const root = certified.header.stateRoot;
  const honest = offers.filter((o) => {
    if (equalBytes(o.snapshot.stateRoot, root)) return true;
    ctx.report(
      o.peer,
      new SyncError(
        "SYNC_BAD_SNAPSHOT",
        "The peer offers a snapshot of another state root than the certified one.",
      ),
      "state sync list",
    );
    return false;
  });
  if (honest.length === 0) return null;
  progress?.phase("fetching", height);
  const depth = honest[0]!.snapshot.depth;
  const manifest = await firstGood(ctx, honest, "state sync manifest", async (peer) => {
    const [bytes] = await requestStateSync(ctx, peer, { kind: "manifest", height, depth });
    const refs = decodeManifest(bytes!, depth);
    return { refs, top: verifyManifest(root, refs) };
  });
  if (!manifest) return null;
  const fetched = await fetchChunks(
    { ...deps, ctx },
    options,
    honest.map((o) => o.peer),
    height,
    depth,
    manifest.refs,
  );
  if (!fetched) return null;
  progress?.phase("finishing", height);
  await deps.db.putStateNodes(manifest.top, height);
  const genesisRoot = await adoptGenesis({ ...deps, ctx }, honest);
  await recordSnapshotHead(deps, certified, root, genesisRoot, fetched.leftoversFrom);
  if (fetched.leftoversFrom !== null) {
    // The sweep's record is in the batch above: a crash here leaves it to the pruner.
    const swept = await deps.db.sweepState(height, SWEEP_STEP_KEYS, () => false);
    ctx.log.info(
      { height, earlierAttempt: fetched.leftoversFrom, deleted: swept },
      "state sync: deleted the nodes an earlier join of another snapshot left",
    );
  }
  return { height, chunks: fetched.chunks, bytes: fetched.bytes, peers: fetched.peers };
}

/**
 * Verified chunks held for their batch at most (their nodes, ~0.6 MB each
 * at the usual cut), beside one chunk per fetch worker in flight or in
 * verification: with the fetch, the check (on its thread) and the write
 * (LevelDB's thread pool) apart, a worker that waited for its own write
 * left the other threads idle.
 */
const MAX_PENDING_WRITES = 4;

/** The snapshot height a join is fetching (module comment: a later run sweeps what it leaves). */
const ATTEMPT_META = "statesyncAttempt";

/** What ATTEMPT_META holds: this run's height, and the highest other height an earlier killed run fetched. */
export interface JoinAttempt {
  readonly height: number;
  readonly others: number | null;
}

/**
 * The record a run at `height` writes over `before` (a bare number: a record
 * of a run before `others` was kept). `others` is sticky until the join
 * finishes: killed at 1000, then at 2000, a third run at 2000 still sweeps
 * what the run at 1000 left.
 */
export function nextAttempt(before: JoinAttempt | number | undefined, height: number): JoinAttempt {
  const prev = typeof before === "number" ? { height: before, others: null } : before;
  if (prev === undefined) return { height, others: null };
  const earlier = prev.height !== height ? prev.height : null;
  const others =
    earlier === null
      ? prev.others
      : prev.others === null
        ? earlier
        : Math.max(earlier, prev.others);
  return { height, others };
}

/** State keys a sweep step reads (the pruner's step). */
const SWEEP_STEP_KEYS = 4096;

/** `attempt` on each offering peer in turn until one answers well; faults are reported. */
async function firstGood<T>(
  ctx: SyncContext,
  offers: readonly Offer[],
  what: string,
  attempt: (peer: PeerId) => Promise<T>,
): Promise<T | null> {
  for (const { peer } of offers) {
    if (ctx.penalties.isBanned(peer.toString())) continue;
    try {
      return await attempt(peer);
    } catch (err) {
      ctx.report(peer, err, what);
    }
  }
  return null;
}

const fetchHeader = async (ctx: SyncContext, peer: PeerId, height: number) =>
  decodeHeaderReply(await requestStateSync(ctx, peer, { kind: "header", height }));

const badSnapshot = (height: number, message: string, cause?: unknown) =>
  new SyncError("SYNC_BAD_SNAPSHOT", message, {
    details: { height },
    ...(cause !== undefined && { cause }),
  });

/** The next validator set a peer sends with a header must be the one it names (the schedule is made of it). */
function checkNextSet(reply: HeaderReply): HeaderReply {
  if (!equalBytes(validatorSetHash(reply.nextValidators), reply.header.nextValidatorsHash))
    throw badSnapshot(
      reply.header.height,
      "The next validator set sent is not the one the header names.",
    );
  return reply;
}

/**
 * The snapshot height's header from `peer`: the one the light client
 * verified (by hash), final under the set it names, whose certificate the
 * node will store and serve.
 */
async function lightClientHeader(
  deps: JoinDeps,
  peer: PeerId,
  height: number,
  verifiedHash: Uint8Array,
): Promise<HeaderReply> {
  const reply = await fetchHeader(deps.ctx, peer, height);
  if (!equalBytes(blockHash(reply.header), verifiedHash))
    throw badSnapshot(height, "The header is not the one the light client verified from genesis.");
  try {
    await verifyCommittedHeader(
      deps.genesis.chainId,
      { header: reply.header, certificate: reply.certificate, validators: reply.validators },
      deps.verifier,
    );
  } catch (cause) {
    throw badSnapshot(height, "The certificate sent does not finalize the verified header.", cause);
  }
  return checkNextSet(reply);
}

/** The trusted header from `peer`, then the snapshot height's, verified from it (see the module comment). */
async function verifiedHeader(
  deps: JoinDeps,
  trust: { readonly height: number; readonly hash: Uint8Array },
  peer: PeerId,
  height: number,
): Promise<HeaderReply> {
  const { ctx, verifier } = deps;
  const fetch = (h: number) => fetchHeader(ctx, peer, h);
  const bad = (message: string, cause?: unknown) => badSnapshot(height, message, cause);
  const trusted = await fetch(trust.height);
  if (!equalBytes(blockHash(trusted.header), trust.hash))
    throw bad("The header at the trusted height does not hash to statesync.trustHash.");
  if (
    !equalBytes(validatorSetHash(trusted.validators), trusted.header.validatorsHash) ||
    !equalBytes(validatorSetHash(trusted.nextValidators), trusted.header.nextValidatorsHash)
  )
    throw bad("The validator sets sent with the trusted header are not the ones it names.");
  const target = height === trust.height ? trusted : await fetch(height);
  try {
    if (target !== trusted)
      await verifySkippingHeader(
        { header: trusted.header, validators: trusted.validators },
        trusted.nextValidators,
        { header: target.header, certificate: target.certificate, validators: target.validators },
        verifier,
      );
  } catch (cause) {
    if (cause instanceof HeaderChainError)
      throw bad("The snapshot height's header does not verify from the trusted one.", cause);
    throw cause;
  }
  return checkNextSet(target);
}

/**
 * Every non-empty chunk, from `peers` in parallel (options.perPeer each).
 * A peer at fault is dropped and its chunk asked of another; null when
 * chunks remain and no peer is left.
 */
async function fetchChunks(
  deps: JoinDeps,
  options: JoinOptions,
  peers: readonly PeerId[],
  height: number,
  depth: number,
  refs: readonly SubtreeRef[],
): Promise<{
  chunks: number;
  bytes: number;
  peers: number;
  /** The height an earlier, killed run fetched, if another than this one's. */
  leftoversFrom: number | null;
} | null> {
  const { ctx, db, progress } = deps;
  const before = db.getMeta<JoinAttempt | number>(ATTEMPT_META);
  const attempt = nextAttempt(before, height);
  // Before the first chunk: a run killed after it is known to have written at this height.
  if (JSON.stringify(attempt) !== JSON.stringify(before)) await db.putMeta(ATTEMPT_META, attempt);
  // Kept over a run that gives up (no peer left): the earlier runs' nodes are still on disk.
  const leftoversFrom = attempt.others;
  const nonEmpty = refs.flatMap((ref, index) => (ref.kind === "empty" ? [] : [index]));
  // Written whole by a killed earlier run (module comment): not asked again.
  const queue = nonEmpty.filter((index) => db.stateStore.get(refs[index]!.hash) === undefined);
  const chunks = nonEmpty.length;
  progress?.planned(chunks, chunks - queue.length);
  let bytes = 0;
  const served = new Set<string>();
  const dropped = new Set<string>();
  let inFlight = 0;
  // Wakes idle workers when a chunk comes back to the queue (its peer failed) or the last one lands.
  let wake = () => {};
  let changed = new Promise<void>((r) => {
    wake = r;
  });
  const notify = () => {
    wake();
    changed = new Promise<void>((r) => {
      wake = r;
    });
  };
  // Verified chunks waiting for their batch (Database serializes them): a worker hands
  // its chunk over and fetches the next, unless MAX_PENDING_WRITES already wait.
  const writing = new Set<Promise<void>>();
  let writeError: unknown = null;
  const write = (peer: PeerId, writes: readonly NodeWrite[], length: number): void => {
    // Assigned before its first await resumes: the finally below always sees it.
    let done!: Promise<void>;
    done = (async () => {
      try {
        await deps.beforeChunkWrite?.();
        await db.putStateNodes(writes, height);
        bytes += length;
        served.add(peer.toString());
        progress?.chunkWritten(peer.toString(), length);
      } catch (err) {
        // Ours, not the peer's (the disk): the join stops with it.
        writeError ??= err;
      } finally {
        writing.delete(done);
        inFlight--;
        notify();
      }
    })();
    writing.add(done);
  };
  const worker = async (peer: PeerId): Promise<void> => {
    while (!dropped.has(peer.toString())) {
      if (writeError !== null) throw writeError;
      const index = queue.shift();
      if (index === undefined) {
        if (inFlight === 0) return;
        await changed;
        continue;
      }
      inFlight++;
      let raw: Uint8Array;
      let writes: readonly NodeWrite[];
      try {
        [raw] = (await requestStateSync(ctx, peer, {
          kind: "chunk",
          height,
          depth,
          index,
        })) as [Uint8Array];
        // On the verifier's thread (chunkVerifier.ts): the same decodeChunk and verifyChunk.
        writes = await verifier.verify(refs[index]!, raw, { height, depth, index });
      } catch (err) {
        // Its fault (scored) or gone (a dial error): ask it nothing more; another peer takes the chunk.
        queue.push(index);
        dropped.add(peer.toString());
        inFlight--;
        notify();
        ctx.report(peer, err, "state sync chunk");
        return;
      }
      while (writing.size >= MAX_PENDING_WRITES) await Promise.race(writing);
      write(peer, writes, raw.length);
    }
  };
  const verifier = queue.length > 0 ? startChunkVerifier() : inlineVerifier;
  try {
    await Promise.all(
      peers.flatMap((peer) => Array.from({ length: options.perPeer }, () => worker(peer))),
    );
  } finally {
    await Promise.all(writing);
    await verifier.close();
  }
  if (writeError !== null) throw writeError;
  return queue.length === 0 ? { chunks, bytes, peers: served.size, leftoversFrom } : null;
}

/**
 * The genesis header without the genesis state: a peer's genesis root is
 * taken if the header it makes is the parent of header 1, and header 1 is
 * final under the genesis set (which the genesis file gives). Then
 * Chain.init reads the header back instead of building the genesis state
 * (a minute at 10^6 derived accounts). No peer with header 1 (all joined by
 * state sync themselves): null, and Chain.init builds it, as before.
 */
async function adoptGenesis(deps: JoinDeps, offers: readonly Offer[]): Promise<Uint8Array | null> {
  const { ctx, genesis } = deps;
  const root = await firstGood(ctx, offers, "state sync genesis", async (peer) => {
    const first = decodeHeaderReply(
      await requestStateSync(ctx, peer, { kind: "header", height: 1 }),
    );
    try {
      await verifyCommittedHeader(
        genesis.chainId,
        { header: first.header, certificate: first.certificate, validators: genesis.validators },
        deps.verifier,
      );
    } catch (cause) {
      throw new SyncError("SYNC_BAD_SNAPSHOT", "Header 1 is not final under the genesis set.", {
        cause,
      });
    }
    const [claimed] = await requestStateSync(ctx, peer, { kind: "genesis" });
    if (!equalBytes(genesisHeader(genesis, claimed!).hash, first.header.parentHash))
      throw new SyncError("SYNC_BAD_SNAPSHOT", "The genesis root does not make header 1's parent.");
    return claimed!;
  });
  return root;
}

/**
 * The validator schedule from the snapshot height on, and the one batch
 * that makes the snapshot height the head (also `snapshot import`'s last
 * step), with the genesis record when its root was verified: one batch, so
 * that a crash leaves either an empty chain (the join runs again) or all of it.
 */
export async function recordSnapshotHead(
  deps: Pick<JoinDeps, "db" | "genesis">,
  certified: HeaderReply,
  root: Uint8Array,
  genesisRoot: Uint8Array | null = null,
  leftoversFrom: number | null = null,
): Promise<void> {
  const { header, certificate } = certified;
  const h = header.height;
  // The newest set adopted by votes (in the state) signs from h + 2 at the latest.
  const adopted = await new SparseMerkleTree(deps.db.stateStore).get(root, VALIDATOR_SET_KEY);
  const sets = [
    certified.validators,
    certified.nextValidators,
    adopted ? decodeValidatorSet(adopted) : certified.nextValidators,
  ];
  const schedule: { from: number; set: string }[] = [];
  let previous = validatorSetHash(deps.genesis.validators);
  for (const [i, set] of sets.entries()) {
    const hash = validatorSetHash(set);
    if (!equalBytes(hash, previous))
      schedule.push({ from: h + i, set: toHex(encodeValidatorSet(set)) });
    previous = hash;
  }
  const hash = blockHash(header);
  await deps.db.finishStateSync({
    header,
    blockHash: hash,
    certificate,
    head: { height: h, hash: toHex(hash), stateRoot: toHex(root) },
    meta: [
      { key: SCHEDULE_META, value: schedule },
      ...(genesisRoot ? [{ key: "genesis", value: genesisRecord(deps.genesis, genesisRoot) }] : []),
    ],
    dropMeta: [ATTEMPT_META],
    // At or below the snapshot height: every node on disk was written by a join, none by a block yet.
    ...(leftoversFrom !== null && { sweep: Math.max(h, leftoversFrom) }),
  });
}
