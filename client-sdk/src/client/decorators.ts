/**
 * Binding (viem's decorators): `clientActions(client)` gives a BaseClient
 * its actions as methods, `client.getAccount(params)` for
 * `getAccount(client, params)`. The one place that knows every action;
 * the actions know only the BaseClient.
 */
import type { BlockHeader } from "../protocol/block.ts";
import { getAccount } from "./actions/getAccount.ts";
import { getBlock } from "./actions/getBlock.ts";
import { getStatus } from "./actions/getStatus.ts";
import { getTransaction } from "./actions/getTransaction.ts";
import { getValidators } from "./actions/getValidators.ts";
import { sendTransaction } from "./actions/sendTransaction.ts";
import { type TransferParams, transfer } from "./actions/transfer.ts";
import { type FinalityOptions, waitForFinality } from "./actions/waitForFinality.ts";
import { type HeadSource, type WatchHeadsOptions, watchHeads } from "./actions/watchHeads.ts";
import type { BaseClient } from "./clients/baseClient.ts";

/** The actions, bound: each is the action of the same name with the client filled in. */
export interface ClientActions {
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
  watchHeads(
    onHead: (header: BlockHeader, via: HeadSource) => void,
    options?: WatchHeadsOptions,
  ): () => void;
}

export function clientActions(client: BaseClient): ClientActions {
  return {
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
}
