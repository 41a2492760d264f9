/**
 * The chain the state sync tests start from (statesync/*.test.ts): a lone
 * validator, `accounts` funded accounts at genesis, and blocks of one
 * transfer each to a new account, committed with the validator's certificate.
 */
import type { Chain } from "../chain/chain.ts";
import type { Genesis } from "../chain/genesis.ts";
import type { PendingTx } from "../mempool/mempool.ts";
import { addressOf, CHAIN, certifyAlone, keyOf, NOW, signed, transfer } from "./fixtures.ts";

export const stateSyncValidator = keyOf(9);

export function stateSyncGenesis(accounts: number): Genesis {
  return {
    chainId: CHAIN,
    time: NOW - 1_000_000,
    validators: [{ publicKey: stateSyncValidator.publicKey, power: 1n }],
    accounts: Array.from({ length: accounts }, (_, i) => ({
      address: addressOf(i + 1),
      balance: 10n ** 9n,
    })),
  };
}

/**
 * Commits heights 1..`blocks`, each a transfer of `amount` from account 1
 * to a new one; `onCommit` after each. Another amount makes another chain
 * from the same genesis (a fork, for the light client tests).
 */
export async function commitTransferBlocks(
  chain: Chain,
  blocks: number,
  onCommit: (height: number, stateRoot: Uint8Array) => Promise<void> = async () => undefined,
  amount = 5n,
): Promise<void> {
  for (let h = 1; h <= blocks; h++) {
    const { stx, bytes } = signed(keyOf(1), h - 1, transfer(addressOf(1000 + h), amount), {
      expiresAt: NOW + 3_600_000,
    });
    const tx: PendingTx = { hash: new Uint8Array(32), key: "", stx, bytes, sender: "", seq: 0 };
    const built = await chain.buildBlock([tx], chain.nextTime(NOW), stateSyncValidator.publicKey);
    if (built.failed.length > 0) throw built.failed[0]!.error;
    await chain.commit(built, certifyAlone(stateSyncValidator, h, built.blockHash));
    await onCommit(h, built.block.header.stateRoot);
  }
}
