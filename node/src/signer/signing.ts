/**
 * The one choice of where a node's signatures come from, for the
 * composition root (node.ts): the key in its home (a LocalSigningGuard), or
 * the remote signer its config names (a RemoteSigningGuard over a
 * SignerClient, started with the node's connection key once the node has
 * loaded it). Never both: a home with a remote signer holds no key
 * (config/setup.ts refuses one).
 */
import type { SecretKey, SignatureVerifier } from "@edgeledger/sdk/protocol";
import { nativeSigner } from "@edgeledger/sdk/protocol/node";
import type { PrivateKey } from "@libp2p/interface";
import type { Logger } from "pino";
import type { NodeConfig } from "../config/config.ts";
import {
  LocalSigningGuard,
  type SigningGuard,
  type SigningKey,
  type SigningStore,
} from "../consensus/signingGuard.ts";
import { defaultSignerClientTimings, SignerClient } from "./client.ts";
import { RemoteSigningGuard } from "./remoteGuard.ts";
import { peerIdOfKey } from "./transport.ts";

export interface Signing {
  readonly guard: SigningGuard;
  /** Connects to the remote signer (a local key: nothing to do); waits a bounded time for its key. */
  start(connectionKey: PrivateKey): Promise<void>;
  stop(): Promise<void>;
}

/** How long a starting node waits for its signer before it starts without voting (it keeps redialing). */
const FIRST_CONNECT_MS = 5000;

export function signingFor(deps: {
  readonly key: SecretKey | null;
  readonly config: Pick<NodeConfig, "signer">;
  readonly configFile: string;
  readonly db: SigningStore;
  readonly chainId: string;
  readonly verifier: SignatureVerifier;
  readonly log: Logger;
  /** The test build's seam (hooks.signer): only a local key can be wrapped. */
  readonly wrapKey?: (key: SigningKey, chainId: string) => SigningKey;
}): Signing {
  const { key, db, chainId, log } = deps;
  if (key) {
    const signer = nativeSigner(key);
    const guard = new LocalSigningGuard(db, deps.wrapKey?.(signer, chainId) ?? signer, chainId);
    return { guard, start: async () => undefined, stop: async () => undefined };
  }
  const { address, publicKey } = deps.config.signer;
  const signer = peerIdOfKey(publicKey, { file: deps.configFile, key: "signer.publicKey" });
  const client = new SignerClient({ address, signer, chainId, ...defaultSignerClientTimings }, log);
  const guard = new RemoteSigningGuard(db, { client, chainId, verifier: deps.verifier, log });
  return {
    guard,
    async start(connectionKey) {
      await client.start(connectionKey);
      if (!(await client.ready(FIRST_CONNECT_MS)))
        log.warn(
          { signer: address },
          "the remote signer is not reachable yet; this node votes once it is",
        );
    },
    async stop() {
      await client.stop();
    },
  };
}
