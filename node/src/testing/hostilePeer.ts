/**
 * A hostile libp2p peer for the stream protocols (block sync, consensus
 * catch-up, mempool pull): it answers each with garbage, a replay of real
 * data from elsewhere, a huge reply, or nothing at all, and it can open
 * streams to a node and never read them. Test-only; runs in-process (tests
 * hand it material) or in a child process (`startHostilePeer` takes only a
 * chain id and the address of the node to attack, and fetches its replay
 * material from that node over the sync protocol).
 *
 * Everything it sends is derived from a seed, so a run can be repeated.
 */
import type { PeerId, Stream } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { createHost, type Host, newPeerKey } from "../network/host.ts";
import { catchUpProtocol, mempoolProtocol, syncProtocol } from "../sync/protocols.ts";

export type HostileBehaviour =
  /** Well-framed random bytes (length prefixes within bounds, contents that do not decode). */
  | "garbage"
  /** Real data that is not what was asked: blocks of other heights, old-height votes, known txs. */
  | "replay"
  /** Sync only: the block asked for, with the certificate of another height. */
  | "wrongCertificate"
  /** A length prefix of 2^32 − 1, then bytes for as long as the stream stays open. */
  | "huge"
  /** The replay's frames (or garbage) repeated for as long as the stream stays open. */
  | "flood"
  /** Accepts the stream, then neither reads nor writes (and pauses it, so nothing drains). */
  | "stall";

export type StreamKind = "sync" | "catchup" | "mempool";

export interface ReplayMaterial {
  /** Encoded blocks and certificates, heights 1, 2, … in order. */
  readonly blocks?: readonly { block: Uint8Array; certificate: Uint8Array }[];
  /** Encoded consensus messages (valid, of some other height). */
  readonly consensus?: readonly Uint8Array[];
  /** Encoded signed transactions (valid, already known to the target). */
  readonly txs?: readonly Uint8Array[];
}

export interface HostilePeerOptions {
  readonly chainId: string;
  /** The node to attack: dialled at start (a multiaddr with /p2p/<id>). */
  readonly target?: string;
  readonly behaviour: HostileBehaviour | Partial<Record<StreamKind, HostileBehaviour>>;
  readonly replay?: ReplayMaterial;
  readonly seed?: number;
  /** Stops a huge or flood reply after this many bytes (a safety net; default 256 MiB). */
  readonly maxSendBytes?: number;
}

export interface HostileStats {
  /** Requests received, per protocol. */
  readonly requests: Record<StreamKind, number>;
  /** Streams of ours still open (served or opened). */
  open: number;
  /** Bytes written by our replies. */
  bytesSent: number;
}

export interface StalledStreams {
  /** How many of the streams are still open (the target has not reset them). */
  open(): number;
  /** How many the target refused to open. */
  readonly refused: number;
}

export interface HostilePeer {
  readonly host: Host;
  readonly peerId: PeerId;
  readonly stats: HostileStats;
  /**
   * Opens `count` streams of `kind` to the target, sends a valid request on
   * each and never reads the reply.
   */
  stallStreams(kind: StreamKind, count: number, request?: Uint8Array): Promise<StalledStreams>;
  stop(): Promise<void>;
}

/** A small seeded generator (mulberry32): the same seed, the same bytes. */
function random(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = (t ^ (t >>> 14)) & 0xff;
    }
    return out;
  };
}

function frame(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

const u64 = (n: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
};

function syncRequest(from: number, count: number): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(from));
  v.setUint32(8, count);
  return b;
}

/** Reads a request until the client closes its side (at most 64 bytes; hostile peers do not care). */
async function readRequest(stream: Stream): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
    parts.push(bytes);
    size += bytes.length;
    if (size >= 64) break;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function startHostilePeer(options: HostilePeerOptions): Promise<HostilePeer> {
  const { key } = await newPeerKey();
  const host = await createHost(key, options.chainId, { listen: ["/ip4/127.0.0.1/tcp/0"] });
  const rand = random(options.seed ?? 1);
  const maxSend = options.maxSendBytes ?? 256 * 1024 * 1024;
  const stats: HostileStats = {
    requests: { sync: 0, catchup: 0, mempool: 0 },
    open: 0,
    bytesSent: 0,
  };
  const held = new Set<Stream>();
  let material: ReplayMaterial = options.replay ?? {};
  const behaviourOf = (kind: StreamKind): HostileBehaviour =>
    typeof options.behaviour === "string"
      ? options.behaviour
      : (options.behaviour[kind] ?? "stall");

  const track = (stream: Stream) => {
    stats.open++;
    held.add(stream);
    stream.addEventListener("close", () => {
      stats.open--;
      held.delete(stream);
    });
  };

  /** Sends frames until done or the stream goes; waits for drain like a real sender. */
  const pump = async (stream: Stream, next: () => Uint8Array | null): Promise<void> => {
    try {
      for (let chunk = next(); chunk !== null; chunk = next()) {
        if (stream.writeStatus !== "writable") return;
        stats.bytesSent += chunk.length;
        if (!stream.send(chunk)) await stream.onDrain();
        if (stats.bytesSent > maxSend) break;
      }
      await stream.close();
    } catch {
      // The target reset the stream: what we wanted.
    }
  };

  const replayFrames = (kind: StreamKind, request: Uint8Array): Uint8Array[] => {
    if (kind === "catchup") return (material.consensus ?? []).map(frame);
    if (kind === "mempool") return (material.txs ?? []).map(frame);
    const blocks = material.blocks ?? [];
    const from = request.length >= 8 ? Number(new DataView(request.buffer).getBigUint64(0)) : 1;
    // Real blocks with their certificates, but starting one height past the one asked for.
    return blocks
      .slice(from)
      .map((b) => new Uint8Array([...frame(b.block), ...frame(b.certificate)]));
  };

  const garbageFrame = (kind: StreamKind): Uint8Array =>
    kind === "sync"
      ? new Uint8Array([...frame(rand(1000)), ...frame(rand(100))])
      : frame(rand(kind === "mempool" ? 200 : 300));

  const answer = async (kind: StreamKind, stream: Stream): Promise<void> => {
    track(stream);
    stats.requests[kind]++;
    const behaviour = behaviourOf(kind);
    if (behaviour === "stall") {
      // Hold it: no reads (paused, so the sender's window runs out), no writes.
      stream.pause();
      return;
    }
    const request = await readRequest(stream).catch(() => new Uint8Array(0));
    let frames: Uint8Array[] = [];
    let repeat = false;
    if (behaviour === "garbage") frames = [garbageFrame(kind), garbageFrame(kind)];
    else if (behaviour === "replay") frames = replayFrames(kind, request);
    else if (behaviour === "flood") {
      frames = replayFrames(kind, request);
      if (frames.length === 0) frames = [garbageFrame(kind)];
      repeat = true;
    } else if (behaviour === "wrongCertificate") {
      const blocks = material.blocks ?? [];
      const from = Number(new DataView(request.buffer, request.byteOffset).getBigUint64(0));
      const mine = blocks[from - 1];
      const other = blocks[from] ?? blocks[from - 2];
      if (mine && other)
        frames = [new Uint8Array([...frame(mine.block), ...frame(other.certificate)])];
    } else if (behaviour === "huge") {
      const prefix = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
      let first = true;
      const filler = rand(64 * 1024);
      await pump(stream, () => {
        if (first) {
          first = false;
          return prefix;
        }
        return filler;
      });
      return;
    }
    let i = 0;
    await pump(stream, () => {
      if (i < frames.length) return frames[i++]!;
      if (repeat && frames.length > 0) {
        i = 1;
        return frames[0]!;
      }
      return null;
    });
  };

  const { chainId } = options;
  for (const [kind, protocol] of [
    ["sync", syncProtocol(chainId)],
    ["catchup", catchUpProtocol(chainId)],
    ["mempool", mempoolProtocol(chainId)],
  ] as const) {
    await host.handle(protocol, (stream) => void answer(kind, stream), {
      maxInboundStreams: 64,
    });
  }

  let targetPeer: PeerId | null = null;
  if (options.target) {
    const connection = await host.dial(multiaddr(options.target));
    targetPeer = connection.remotePeer;
    const needsBlocks = ["replay", "flood", "wrongCertificate"].some(
      (b) => behaviourOf("sync") === b,
    );
    if (needsBlocks && !material.blocks)
      material = { ...material, blocks: await fetchBlocks(host, targetPeer, chainId) };
  }

  return {
    host,
    peerId: host.peerId,
    stats,
    async stallStreams(kind, count, request) {
      if (!targetPeer) throw new Error("stallStreams needs a target");
      const body =
        request ??
        (kind === "sync" ? syncRequest(1, 128) : kind === "catchup" ? u64(1) : new Uint8Array(0));
      const protocol =
        kind === "sync"
          ? syncProtocol(chainId)
          : kind === "catchup"
            ? catchUpProtocol(chainId)
            : mempoolProtocol(chainId);
      const streams: Stream[] = [];
      let refused = 0;
      for (let i = 0; i < count; i++) {
        try {
          const stream = await host.dialProtocol(targetPeer, protocol, {
            signal: AbortSignal.timeout(5000),
          });
          track(stream);
          // Never read: paused, so yamux grants the target no window beyond the first.
          stream.pause();
          if (body.length > 0) stream.send(body);
          await stream.close();
          streams.push(stream);
        } catch {
          refused++;
        }
      }
      return {
        open: () =>
          streams.filter(
            (s) => s.status !== "closed" && s.status !== "aborted" && s.status !== "reset",
          ).length,
        refused,
      };
    },
    async stop() {
      for (const s of held) s.abort(new Error("hostile peer stopping"));
      await host.stop();
    },
  };
}

/** Blocks 1..n from `peer` over the sync protocol (one request), as replay material. */
async function fetchBlocks(
  host: Host,
  peer: PeerId,
  chainId: string,
): Promise<{ block: Uint8Array; certificate: Uint8Array }[]> {
  const stream = await host.dialProtocol(peer, syncProtocol(chainId), {
    signal: AbortSignal.timeout(5000),
  });
  stream.send(syncRequest(1, 128));
  await stream.close();
  const parts: Uint8Array[] = [];
  let size = 0;
  const done = AbortSignal.timeout(10_000);
  for await (const chunk of stream) {
    if (done.aborted) break;
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
    parts.push(bytes);
    size += bytes.length;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const view = new DataView(all.buffer);
  const out: { block: Uint8Array; certificate: Uint8Array }[] = [];
  for (let i = 0; i + 4 <= all.length; ) {
    const bl = view.getUint32(i);
    const block = all.subarray(i + 4, i + 4 + bl);
    const cl = view.getUint32(i + 4 + bl);
    const certificate = all.subarray(i + 8 + bl, i + 8 + bl + cl);
    out.push({ block, certificate });
    i += 8 + bl + cl;
  }
  return out;
}
