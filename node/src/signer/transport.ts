/**
 * The connection between a validator and its signer: libp2p over TCP with
 * Noise (XX handshake, ChaCha20-Poly1305) and Yamux, both already the
 * node's transport, with each side's static key pinned — as tmkms pins keys
 * on its secret connection:
 *   - the signer's connection gater refuses, right after the handshake, any
 *     peer whose key is not in its `allowedValidators`;
 *   - the validator dials `/p2p/<the signer's configured key>`, and Noise
 *     fails the handshake if the signer proves another key.
 * Why libp2p rather than TLS with pinned self-signed certificates: Node has
 * no API to make a certificate for an Ed25519 key (a new dependency), and
 * a pinned raw Noise socket would re-build what libp2p already does here.
 * Neither side runs identify, gossip or any other protocol; the validator
 * listens on nothing.
 */
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { fromHex, toHex } from "@edgeledger/sdk/protocol";
import { publicKeyFromRaw } from "@libp2p/crypto/keys";
import type { ConnectionGater, Libp2p, PeerId, PrivateKey } from "@libp2p/interface";
import { peerIdFromPublicKey } from "@libp2p/peer-id";
import { tcp } from "@libp2p/tcp";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { createLibp2p } from "libp2p";
import { ConfigError } from "../config/errors.ts";

export type SignerLink = Libp2p<Record<string, never>>;

/** The peer id of a connection key given as 64 hex characters (raw Ed25519). */
export function peerIdOfKey(hex: string, where: { file: string; key: string }): PeerId {
  try {
    const raw = fromHex(hex);
    if (raw.length !== 32) throw new Error("not 32 bytes");
    return peerIdFromPublicKey(publicKeyFromRaw(raw));
  } catch {
    throw ConfigError.invalid(
      where.file,
      where.key,
      "is not an Ed25519 public key (64 hex characters)",
      "copy the connection key `edgeledger signer init` or `signer connection-key` printed",
    );
  }
}

/** A connection key's public half as the hex an operator copies into config. */
export function connectionKeyHex(key: PrivateKey): string {
  return toHex(key.publicKey.raw);
}

/** `host:port` → the multiaddr to listen on or dial. */
export function signerMultiaddr(address: string, peer?: PeerId): Multiaddr {
  const m = /^(.+):(\d{1,5})$/.exec(address);
  const host = m?.[1] ?? "";
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new Error(`"${address}" is not host:port`);
  const proto = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? "ip4" : "dns4";
  return multiaddr(`/${proto}/${host}/tcp/${port}${peer ? `/p2p/${peer.toString()}` : ""}`);
}

export async function createSignerLink(options: {
  readonly key: PrivateKey;
  readonly listen?: Multiaddr;
  readonly gater: ConnectionGater;
}): Promise<SignerLink> {
  return createLibp2p({
    privateKey: options.key,
    addresses: { listen: options.listen ? [options.listen.toString()] : [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: options.gater,
    // A signer serves one or two validators (an active one and a standby).
    connectionManager: { maxConnections: 8 },
    services: {},
  });
}
