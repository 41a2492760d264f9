/**
 * The client's nonce manager: hands out the nonces `transfer` signs with,
 * so an app can send many in a row from one account without waiting for
 * each to be final.
 */
import { getAccount } from "./actions/getAccount.ts";
import type { BaseClient, Nonces } from "./clients/baseClient.ts";

/**
 * Nonces for rapid sequential sends: the first comes from the verified
 * account, each next one is one more; a refusal that says the nonce is off
 * (or any failure of a send) makes the next call ask the chain again.
 */
export class NonceManager implements Nonces {
  readonly #next = new Map<string, number>();
  readonly #locks = new Map<string, Promise<unknown>>();

  /** Reserves the next nonce for `address` (serialized per address). */
  async reserve(client: BaseClient, address: string): Promise<number> {
    const prior = this.#locks.get(address) ?? Promise.resolve();
    const run = prior
      .catch(() => undefined)
      .then(async () => {
        let n = this.#next.get(address);
        if (n === undefined) n = (await getAccount(client, { address })).nonce;
        this.#next.set(address, n + 1);
        return n;
      });
    this.#locks.set(address, run);
    return run;
  }

  /** Forgets what it counted for `address`: the next reserve asks the chain. */
  reset(address: string): void {
    this.#next.delete(address);
  }
}
