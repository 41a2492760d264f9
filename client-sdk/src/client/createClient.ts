/**
 * `createClient`: one object holding what every action needs — the chain
 * id, a transport, the light client that verifies answers, and the nonce
 * manager — with the actions bound to it. The actions are also exported on
 * their own (`getAccount(client, …)`), so a bundle carries only those an
 * app calls.
 *
 *   const client = createClient({
 *     url: "http://127.0.0.1:8545",
 *     chainId: "edgeledger-dev",
 *     trust: { genesisHash: "…" },   // pinned from a source you trust
 *   });
 *   const { balance } = await client.getAccount({ address: "el1…" });
 */

import type { BlockHeader } from "../protocol/block.ts";
import type { SignatureVerifier } from "../protocol/signatures/backend.ts";
import { createDefaultVerifier } from "../protocol/signatures/index.ts";
import { getAccount, getBlock, getStatus, getTransaction, getValidators } from "./actions/read.ts";
import {
  type FinalityOptions,
  type WatchHeadsOptions,
  waitForFinality,
  watchHeads,
} from "./actions/watch.ts";
import { NonceManager, sendTransaction, type TransferParams, transfer } from "./actions/write.ts";
import { LightClient, type TrustAnchor, type TrustStore } from "./lightClient.ts";
import { type HttpTransportOptions, http, type Transport } from "./transport.ts";

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

export interface Client {
  readonly chainId: string;
  readonly transport: Transport;
  readonly lightClient: LightClient;
  readonly nonces: NonceManager;
  readonly maxLagBlocks: number;
  getStatus(options?: { signal?: AbortSignal }): ReturnType<typeof getStatus>;
  getAccount(params: Parameters<typeof getAccount>[1]): ReturnType<typeof getAccount>;
  getBlock(params?: Parameters<typeof getBlock>[1]): ReturnType<typeof getBlock>;
  getTransaction(params: Parameters<typeof getTransaction>[1]): ReturnType<typeof getTransaction>;
  getValidators(params?: Parameters<typeof getValidators>[1]): ReturnType<typeof getValidators>;
  sendTransaction(
    params: Parameters<typeof sendTransaction>[1],
  ): ReturnType<typeof sendTransaction>;
  transfer(params: TransferParams): ReturnType<typeof transfer>;
  waitForFinality(params: { hash: string } & FinalityOptions): ReturnType<typeof waitForFinality>;
  watchHeads(onHead: (header: BlockHeader) => void, options?: WatchHeadsOptions): () => void;
}

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
  const client: Client = {
    chainId: options.chainId,
    transport,
    lightClient,
    nonces: new NonceManager(),
    maxLagBlocks: options.maxLagBlocks ?? 2,
    getStatus: (o) => getStatus(client, o),
    getAccount: (p) => getAccount(client, p),
    getBlock: (p) => getBlock(client, p),
    getTransaction: (p) => getTransaction(client, p),
    getValidators: (p) => getValidators(client, p),
    sendTransaction: (p) => sendTransaction(client, p),
    transfer: (p) => transfer(client, p),
    waitForFinality: (p) => waitForFinality(client, p),
    watchHeads: (onHead, o) => watchHeads(client, onHead, o),
  };
  return client;
}
