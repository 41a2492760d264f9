/**
 * The Client type apart from its actions (viem's shape): what every action
 * needs — the chain id, a transport, the light client that verifies
 * answers, the nonces handed out — and nothing it does. An action is a
 * function `action(client: BaseClient, params)`; decorators.ts binds them
 * to a client, createClient.ts builds one. An app that imports actions one
 * by one bundles only those it calls.
 */
import type { Transport } from "../transports/transport.ts";
import type { LightClient } from "../verify/lightClient.ts";

/** Where `transfer` takes its next nonce from (nonceManager.ts: NonceManager). */
export interface Nonces {
  /** Reserves the next nonce for `address` (serialized per address). */
  reserve(client: BaseClient, address: string): Promise<number>;
  /** Forgets what it counted for `address`: the next reserve asks the chain. */
  reset(address: string): void;
}

export interface BaseClient {
  readonly chainId: string;
  readonly transport: Transport;
  readonly lightClient: LightClient;
  readonly nonces: Nonces;
  /** How far behind the latest verified height a "latest" answer may be. */
  readonly maxLagBlocks: number;
}
