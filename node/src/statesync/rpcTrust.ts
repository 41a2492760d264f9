/**
 * Trust from genesis (statesync.rpcServers): instead of a height and hash
 * copied by hand, the joining node verifies the snapshot height's header
 * with the SDK's light client (client-sdk verify/lightClient.ts: skipping
 * verification with bisection), from its own genesis, against the HTTP APIs
 * of a few nodes or edges. It is CometBFT's state sync light client
 * (statesync/stateprovider.go: a primary and witnesses from rpc_servers,
 * every witness's header compared with the primary's, a divergence
 * checked), with one difference: each server's header is verified from
 * genesis on its own, so a server that disagrees is either lying (its
 * header does not verify: that server is refused) or shows a fork signed by
 * more than 1/3 of a set (both verify: the join stops).
 *
 * The genesis anchor is this node's genesis file: chain id, time and
 * validator set, which fix every field of the genesis header but the state
 * root. The root comes with each server's genesis answer, and is bound by
 * header 1, which the light client accepts only as final under the genesis
 * set (from our file) with that genesis as its parent. Recomputing the root
 * from the file instead would cost a state sync of 10^6 derived accounts
 * about 20 s and 3 GiB (genesisState in memory), before anything is fetched.
 *
 * No light client rule is written here: this module only picks the anchor,
 * runs one LightClient per server and compares their verdicts.
 */

import { http, LightClient, type Transport, VerificationError } from "@edgeledger/sdk";
import { type GenesisJson, paths } from "@edgeledger/sdk/api";
import {
  BaseError,
  blockHash,
  decodeBlockHeader,
  equalBytes,
  fromHex,
  type SignatureVerifier,
  toHex,
} from "@edgeledger/sdk/protocol";
import { type Genesis, genesisHeader } from "../chain/genesis.ts";

export type StateSyncTrustCode =
  /** The server's genesis or header does not verify from our genesis (a lying or broken server): it is not used. */
  | "STATESYNC_RPC_UNVERIFIED"
  /** The server did not answer (down, or it does not have the height yet): it is not counted. */
  | "STATESYNC_RPC_UNAVAILABLE"
  /** Two servers' headers of one height both verify from genesis: a fork; the node does not join. */
  | "STATESYNC_RPC_CONFLICT"
  /** Fewer servers than statesync.rpcAgree gave the one verified header. */
  | "STATESYNC_RPC_TOO_FEW";

export class StateSyncTrustError extends BaseError<StateSyncTrustCode> {
  override name = "StateSyncTrustError";
}

export interface RpcTrustOptions {
  readonly genesis: Genesis;
  /** Base URLs of node HTTP APIs or edges (statesync.rpcServers); the first that verifies is the primary. */
  readonly servers: readonly string[];
  /** How many servers must give the same verified header (statesync.rpcAgree). */
  readonly agree: number;
  readonly verifier: SignatureVerifier;
  /** Each server refused, as it is (logged and counted by the caller). */
  readonly onRefused?: (err: StateSyncTrustError) => void;
  /** Tests: the transport to a server, and the light client's clock. */
  readonly transport?: (url: string) => Transport;
  readonly now?: () => number;
}

/** A function giving the hash the header at `height` must have, verified from genesis by `agree` servers. */
export function lightClientTrust(o: RpcTrustOptions): (height: number) => Promise<Uint8Array> {
  const transportTo = o.transport ?? ((url: string) => http(url, { retries: 1, timeoutMs: 5000 }));
  const verifyOn = async (server: string, height: number): Promise<Uint8Array> => {
    const transport = transportTo(server);
    const anchor = await genesisAnchor(o.genesis, transport);
    const client = new LightClient({
      chainId: o.genesis.chainId,
      trust: { genesisHash: toHex(anchor) },
      transport,
      verifier: o.verifier,
      ...(o.now && { now: o.now }),
    });
    // Header 1 first: it binds the genesis root taken from the server (see the module comment).
    await client.header(1);
    return blockHash(await client.header(height));
  };
  return async (height) => {
    const verdicts = await Promise.all(
      o.servers.map(async (server): Promise<Verdict> => {
        try {
          return { server, hash: await verifyOn(server, height) };
        } catch (cause) {
          const refused = refusal(server, height, cause);
          o.onRefused?.(refused);
          return { server, refused };
        }
      }),
    );
    const verified = verdicts.flatMap((v) => ("hash" in v ? [v] : []));
    const primary = verified[0];
    const conflicting = verified.filter((v) => !equalBytes(v.hash, primary!.hash));
    if (primary && conflicting.length > 0)
      throw new StateSyncTrustError(
        "STATESYNC_RPC_CONFLICT",
        `Servers ${primary.server} and ${conflicting[0]!.server} serve two different headers at height ${height} that both verify from genesis: the chain has forked (more than 1/3 of a validator set signed both). Not joining; tell the network's operators.`,
        {
          details: {
            height,
            ...Object.fromEntries(verified.map((v) => [v.server, toHex(v.hash)])),
          },
        },
      );
    if (verified.length < o.agree)
      throw new StateSyncTrustError(
        "STATESYNC_RPC_TOO_FEW",
        `${verified.length} of statesync.rpcServers gave the verified header at height ${height}; statesync.rpcAgree asks for ${o.agree}.`,
        {
          details: {
            height,
            ...Object.fromEntries(
              verdicts.flatMap((v) => ("refused" in v ? [[v.server, v.refused.code]] : [])),
            ),
          },
        },
      );
    return primary!.hash;
  };
}

type Verdict =
  | { readonly server: string; readonly hash: Uint8Array }
  | { readonly server: string; readonly refused: StateSyncTrustError };

/**
 * The hash of our genesis over the state root `transport`'s server names:
 * its genesis header must equal ours in every other field.
 */
async function genesisAnchor(genesis: Genesis, transport: Transport): Promise<Uint8Array> {
  const served = await transport.request<GenesisJson>({ method: "GET", path: paths.getGenesis });
  let header: ReturnType<typeof decodeBlockHeader>;
  try {
    header = decodeBlockHeader(fromHex(served.headerBytes));
  } catch (cause) {
    throw new VerificationError("VERIFY_ANCHOR", "The genesis served does not decode.", { cause });
  }
  const ours = genesisHeader(genesis, header.stateRoot).hash;
  if (!equalBytes(ours, blockHash(header)))
    throw new VerificationError(
      "VERIFY_ANCHOR",
      "The server's genesis is not this node's genesis.json (chain id, time or validator set).",
    );
  return ours;
}

function refusal(server: string, height: number, cause: unknown): StateSyncTrustError {
  const unverified = cause instanceof VerificationError;
  const why = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
  return new StateSyncTrustError(
    unverified ? "STATESYNC_RPC_UNVERIFIED" : "STATESYNC_RPC_UNAVAILABLE",
    unverified
      ? `Server ${server}: its header at height ${height} does not verify from our genesis (${why}); it is not used.`
      : `Server ${server} did not give its header at height ${height} (${why}).`,
    { details: { server, height }, cause },
  );
}
