/** The stream protocols' names, one place (the node, its tests and the hostile peer use them). */

/** Block sync: blocks with their finality certificates, by height. */
export function syncProtocol(chainId: string): string {
  return `/edgeledger/${chainId}/sync/1`;
}

/** Consensus catch-up: the proposals and votes a peer holds for one height. */
export function catchUpProtocol(chainId: string): string {
  return `/edgeledger/${chainId}/catchup/1`;
}

/** Mempool pull: a peer's oldest pending transactions. */
export function mempoolProtocol(chainId: string): string {
  return `/edgeledger/${chainId}/mempool/1`;
}

/** State sync: snapshots (height, state root, chunks) and their chunks (statesync/). */
export function stateSyncProtocol(chainId: string): string {
  return `/edgeledger/${chainId}/statesync/1`;
}
