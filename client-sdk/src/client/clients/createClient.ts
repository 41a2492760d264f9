/**
 * `createClient`: builds the BaseClient (baseClient.ts: the chain id, a
 * transport, the light client that verifies answers, the nonce manager) and
 * decorates it with the actions (decorators.ts). The actions are also
 * exported on their own (`getAccount(client, …)`), so a bundle carries only
 * those an app calls.
 *
 *   const client = createClient({
 *     url: "http://127.0.0.1:8545",
 *     chainId: "edgeledger-dev",
 *     trust: { genesisHash: "…" },   // pinned from a source you trust
 *   });
 *   const { balance } = await client.getAccount({ address: "el1…" });
 */

import type { SignatureVerifier } from "../../protocol/signatures/backend.ts";
import { createDefaultVerifier } from "../../protocol/signatures/index.ts";
import { type ClientActions, clientActions } from "../decorators.ts";
import { NonceManager } from "../nonceManager.ts";
import { type HttpTransportOptions, http } from "../transports/http.ts";
import type { Transport } from "../transports/transport.ts";
import { LightClient } from "../verify/lightClient.ts";
import type { TrustAnchor, TrustStore } from "../verify/trust.ts";
import type { BaseClient } from "./baseClient.ts";

export interface ClientOptions {
  /** One server, or several serving the same chain (failover in order). */
  readonly url?: string;
  readonly urls?: readonly string[];
  /** Or a transport of your own (tests, custom fetch). */
  readonly transport?: Transport;
  readonly chainId: string;
  /** Where verification starts: a genesis or checkpoint hash you trust. */
  readonly trust: TrustAnchor;
  /** Persists the latest verified header (default: memory only). */
  readonly trustStore?: TrustStore;
  /** Default: WebCrypto's Ed25519 where present, noble otherwise. */
  readonly verifier?: SignatureVerifier;
  readonly http?: HttpTransportOptions;
  /** See LightClientOptions.trustingPeriodMs. */
  readonly trustingPeriodMs?: number;
  /** See LightClientOptions.maxClockDriftMs. */
  readonly maxClockDriftMs?: number;
  /** How far behind the latest verified height a "latest" answer may be. Default 2. */
  readonly maxLagBlocks?: number;
}

/** What createClient returns: a BaseClient with its actions bound (decorators.ts). */
export type Client = BaseClient & ClientActions;

/** A verifier that loads on first use (WebCrypto detection is async). */
function lazyDefaultVerifier(): SignatureVerifier {
  let chosen: Promise<SignatureVerifier> | null = null;
  const get = () => (chosen ??= createDefaultVerifier());
  return {
    backend: "default (WebCrypto or noble)",
    verify: async (signature, message, publicKey) =>
      (await get()).verify(signature, message, publicKey),
  };
}

export function createClient(options: ClientOptions): Client {
  const transport =
    options.transport ??
    http(options.urls ?? (options.url ? [options.url] : []), options.http ?? {});
  const lightClient = new LightClient({
    chainId: options.chainId,
    trust: options.trust,
    transport,
    verifier: options.verifier ?? lazyDefaultVerifier(),
    ...(options.trustStore && { store: options.trustStore }),
    ...(options.trustingPeriodMs !== undefined && { trustingPeriodMs: options.trustingPeriodMs }),
    ...(options.maxClockDriftMs !== undefined && { maxClockDriftMs: options.maxClockDriftMs }),
  });
  const client: BaseClient = {
    chainId: options.chainId,
    transport,
    lightClient,
    nonces: new NonceManager(),
    maxLagBlocks: options.maxLagBlocks ?? 2,
  };
  return { ...client, ...clientActions(client) };
}
