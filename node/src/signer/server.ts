/**
 * The signer's listening side: a libp2p link (transport.ts) that accepts
 * only the validators' connection keys it is given, and serves the signer
 * protocol (wire.ts) one request per stream. Before a request is decoded
 * its length prefix is checked against MAX_REQUEST_BYTES and its connection
 * against a per-connection rate; every read and write has a deadline
 * (sync/frames.ts), so a validator that stalls frees its stream. What a
 * request may be signed for is the service's (service.ts) to decide.
 */
import type { Connection, PeerId, PrivateKey, Stream } from "@libp2p/interface";
import type { Logger } from "pino";
import { type Deadlines, frame, ServingSlots, send } from "../sync/frames.ts";
import { RemoteSignerError } from "./errors.ts";
import type { SignerService } from "./service.ts";
import { createSignerLink, type SignerLink, signerMultiaddr } from "./transport.ts";
import {
  encodeReply,
  errorReply,
  MAX_REQUEST_BYTES,
  SIGNER_PROTOCOL,
  type SignerReply,
} from "./wire.ts";

export interface SignerServerOptions {
  /** host:port to listen on (127.0.0.1 and a port; port 0 picks a free one). */
  readonly listen: string;
  readonly connectionKey: PrivateKey;
  /** Peer ids of the validators' connection keys this signer serves; any other is refused. */
  readonly allowed: readonly PeerId[];
  /** Requests a connection may make per second (a burst of as many). */
  readonly ratePerSecond: number;
  readonly deadlines: Deadlines;
  readonly now: () => number;
}

export const defaultSignerServerOptions = {
  ratePerSecond: 100,
  deadlines: { idleMs: 2000, totalMs: 5000 },
  now: Date.now,
} as const;

export interface RunningSigner {
  /** host:port it listens on. */
  readonly address: string;
  stop(): Promise<void>;
}

/** Bytes read past a request's prefix before its stream is reset: an oversized request still gets its answer. */
const READ_LIMIT = 64 * 1024;

export async function startSignerServer(
  options: SignerServerOptions,
  service: SignerService,
  log: Logger,
): Promise<RunningSigner> {
  const allowed = new Set(options.allowed.map((p) => p.toString()));
  const link: SignerLink = await createSignerLink({
    key: options.connectionKey,
    listen: signerMultiaddr(options.listen),
    gater: {
      // After the Noise handshake: the peer has proven its key, and it is not ours to serve.
      denyInboundEncryptedConnection: (peer) => {
        const deny = !allowed.has(peer.toString());
        if (deny)
          log.warn(
            { peer: peer.toString() },
            "refused a validator connection key not in the signer's allowedValidators",
          );
        return deny;
      },
      denyDialPeer: () => true,
    },
  });
  const buckets = new WeakMap<Connection, { tokens: number; at: number }>();
  const slots = new ServingSlots(16);
  const admit = (connection: Connection): boolean => {
    const now = options.now();
    const rate = options.ratePerSecond;
    const b = buckets.get(connection) ?? { tokens: rate, at: now };
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 1000);
    b.at = now;
    buckets.set(connection, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
  await link.handle(
    SIGNER_PROTOCOL,
    (stream: Stream, connection: Connection) =>
      slots.serve(
        stream,
        options.deadlines,
        "a signing request",
        async (reader, deadline) => {
          let reply: SignerReply;
          if (!admit(connection)) {
            reply = errorReply(
              new RemoteSignerError(
                "REMOTE_SIGNER_RATE_LIMITED",
                `More than ${options.ratePerSecond} requests a second on this connection.`,
              ),
            );
          } else {
            const prefix = await reader.read(4);
            const length = prefix ? new DataView(prefix.buffer).getUint32(0) : 0;
            if (length > MAX_REQUEST_BYTES) {
              reply = errorReply(
                RemoteSignerError.tooLarge("The request", length, MAX_REQUEST_BYTES),
              );
            } else {
              const body = prefix ? await reader.read(length) : null;
              reply = await service.handle(body ?? new Uint8Array(0));
            }
          }
          if (reply.kind === "error")
            log.warn({ code: reply.code, peer: connection.remotePeer.toString() }, reply.message);
          await send(stream, frame(encodeReply(reply)), deadline);
        },
        READ_LIMIT,
      ),
    { maxInboundStreams: 4 },
  );
  await link.start();
  // The port it got (the options may ask for 0): /ip4/<host>/tcp/<port>/p2p/<id>.
  const parts = link.getMultiaddrs()[0]?.getComponents() ?? [];
  const host = parts.find((c) => c.name === "ip4" || c.name === "dns4")?.value;
  const port = parts.find((c) => c.name === "tcp")?.value;
  return {
    address: host && port ? `${host}:${port}` : options.listen,
    stop: async () => {
      await link.stop();
    },
  };
}
