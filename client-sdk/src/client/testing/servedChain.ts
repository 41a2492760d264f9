/**
 * A served chain for the client's tests (never imported by production
 * code): a real in-memory chain of four heights and the node's answers for
 * it, behind a fake fetch that a test can make lie about one path. The
 * tamper walk (tamper.test.ts) and each action's verifier test
 * (actions/<action>.test.ts) run against it, with no network.
 */
import {
  certifiedHeaderJson,
  genesisJson,
  transactionJson,
  validatorsJson,
} from "../../api/json.ts";
import { apiErrorStatus } from "../../api/status.ts";
import type {
  AccountJson,
  BlockJson,
  ErrorJson,
  StatusJson,
  TransactionStatusJson,
} from "../../api/types.ts";
import { VerificationError } from "../../errors/client.ts";
import type { ApiErrorCode } from "../../errors/protocol.ts";
import { addressFromPublicKey, formatAddress } from "../../protocol/address.ts";
import {
  type BlockHeader,
  blockHash,
  encodeBlock,
  transactionsRoot,
} from "../../protocol/block.ts";
import { toHex } from "../../protocol/bytes.ts";
import type { FinalityCertificate } from "../../protocol/finalityCertificate.ts";
import { sha256 } from "../../protocol/hash.ts";
import { SecretKey } from "../../protocol/keys.ts";
import { encodeMerkleProof, merkleLeafHash, merkleProof } from "../../protocol/merkle.ts";
import { createNativeVerifier } from "../../protocol/node.ts";
import { accountKey, encodeAccount, proveAccount } from "../../protocol/state/account.ts";
import { MemoryNodeStore } from "../../protocol/state/nodeStore.ts";
import { encodeStateProof, SparseMerkleTree } from "../../protocol/state/sparseMerkleTree.ts";
import { CHAIN_ID, certify, makeHeader, makeValidators } from "../../protocol/testing/chain.ts";
import {
  encodeSignedTransaction,
  type SignedTransaction,
  transactionHash,
} from "../../protocol/transaction.ts";
import { type Client, createClient } from "../clients/createClient.ts";
import { http } from "../transports/http.ts";
import type { Json, LeafMutation } from "./leafMutations.ts";

const _verifier = createNativeVerifier();

/**
 * Heights 0 (genesis) to 3: A (funded at genesis) pays B 25 at height 1;
 * 2 and 3 are empty. A second transfer from A is pending, a third was
 * dropped. C never exists.
 */
export async function makeServedChain() {
  const vals = makeValidators(4, 41);
  const key = (i: number) => SecretKey.fromSeed(sha256(Uint8Array.of(41, 100 + i)));
  const a = key(1);
  const addr = (k: SecretKey) => addressFromPublicKey(k.publicKey);
  const [addrA, addrB, addrC] = [addr(a), addr(key(2)), addr(key(3))];

  const store = new MemoryNodeStore();
  const tree = new SparseMerkleTree(store);
  const built = SparseMerkleTree.build([
    [accountKey(addrA), encodeAccount({ balance: 1000n, nonce: 0 })],
  ]);
  store.write(built.writes);
  const genesis = makeHeader(null, vals.set, vals.set, { height: 0, stateRoot: built.root });
  const transfer = (nonce: number, amount: bigint): SignedTransaction => {
    const tx = {
      chainId: CHAIN_ID,
      from: a.publicKey,
      nonce,
      expiresAt: genesis.time + 3_600_000,
      body: { kind: "transfer" as const, to: addrB, amount },
    };
    return { tx, signature: a.sign(transactionHash(tx)) };
  };
  const paid = transfer(0, 25n);
  const pending = transfer(1, 7n);
  const dropped = transfer(9, 8n);
  const next = await tree.update(built.root, [
    [accountKey(addrA), encodeAccount({ balance: 975n, nonce: 1 })],
    [accountKey(addrB), encodeAccount({ balance: 25n, nonce: 0 })],
  ]);
  store.write(next.writes);

  const headers: BlockHeader[] = [genesis];
  const txsAt: SignedTransaction[][] = [[]];
  for (let h = 1; h <= 3; h++) {
    const txs = h === 1 ? [paid] : [];
    headers.push(
      makeHeader(headers[h - 1]!, vals.set, vals.set, {
        txRoot: transactionsRoot(txs),
        txCount: txs.length,
        stateRoot: next.root,
      }),
    );
    txsAt.push(txs);
  }
  const certs: FinalityCertificate[] = headers.map((h) =>
    h.height === 0
      ? { height: 0, round: 0, blockHash: blockHash(h), signatures: [] }
      : certify(h, vals, [0, 1, 2]),
  );
  const head = headers.length - 1;
  return {
    vals,
    headers,
    head,
    addresses: { a: formatAddress(addrA), b: formatAddress(addrB), c: formatAddress(addrC) },
    txs: {
      paid: toHex(transactionHash(paid.tx)),
      pending: toHex(transactionHash(pending.tx)),
      dropped: toHex(transactionHash(dropped.tx)),
    },
    genesisHash: toHex(blockHash(genesis)),
    certified: (h: number) => certifiedHeaderJson(headers[h]!, certs[h]!),
    block(h: number): BlockJson {
      const header = headers[h]!;
      return {
        block: certifiedHeaderJson(header, certs[h]!),
        txs: txsAt[h]!.map(transactionJson),
        evidence: [],
        blockBytes: toHex(encodeBlock({ header, txs: txsAt[h]!, evidence: [] })),
      };
    },
    async account(address: Uint8Array, h: number): Promise<AccountJson> {
      const { account, proof } = await proveAccount(tree, headers[h]!.stateRoot, address);
      return {
        address: formatAddress(address),
        height: h,
        account: account && { balance: account.balance.toString(), nonce: account.nonce },
        proof: toHex(encodeStateProof(proof)),
        block: certifiedHeaderJson(headers[h]!, certs[h]!),
      };
    },
    transaction(hash: string): TransactionStatusJson | null {
      if (hash === toHex(transactionHash(dropped.tx)))
        return {
          hash,
          status: "dropped",
          tx: transactionJson(dropped),
          txBytes: toHex(encodeSignedTransaction(dropped)),
          error: { code: "TX_NONCE_TOO_HIGH", message: "a nonce gap that never closed" },
        };
      if (hash === toHex(transactionHash(pending.tx)))
        return {
          hash,
          status: "pending",
          tx: transactionJson(pending),
          txBytes: toHex(encodeSignedTransaction(pending)),
        };
      if (hash !== toHex(transactionHash(paid.tx))) return null;
      const bytes = encodeSignedTransaction(paid);
      return {
        hash,
        status: "committed",
        tx: transactionJson(paid),
        txBytes: toHex(bytes),
        receipt: { height: 1, index: 0, status: "success" },
        proof: toHex(encodeMerkleProof(merkleProof([merkleLeafHash(bytes)], 0))),
        block: certifiedHeaderJson(headers[1]!, certs[1]!),
      };
    },
    decodeAddress: (text: string) =>
      [addrA, addrB, addrC].find((x) => formatAddress(x) === text) ?? null,
  };
}

export type ServedChain = Awaited<ReturnType<typeof makeServedChain>>;

export class Refusal {
  readonly code: ApiErrorCode;
  readonly message: string;
  constructor(code: ApiErrorCode, message: string) {
    this.code = code;
    this.message = message;
  }
}

/** The node's answer for `url` on `chain` (its JSON shapes; its refusals for what it lacks). */
export async function answer(chain: ServedChain, url: URL): Promise<Json | Refusal> {
  const p = url.pathname;
  const heightParam = url.searchParams.get("height");
  const asked = heightParam === null ? undefined : Number(heightParam);
  const notYet = new Refusal("HEIGHT_NOT_AVAILABLE", "not committed yet");
  if (p === "/v1/genesis") return genesisJson(chain.headers[0]!, chain.vals.set) as unknown as Json;
  if (p === "/v1/status")
    return {
      chainId: CHAIN_ID,
      nodeVersion: "test",
      genesisHash: chain.genesisHash,
      height: chain.head,
      latestHash: toHex(blockHash(chain.headers[chain.head]!)),
      latestTime: chain.headers[chain.head]!.time,
      validator: null,
      mempool: { size: 1, bytes: 100 },
      protocolVersion: 1,
      upgrades: [],
    } satisfies StatusJson as unknown as Json;
  if (p === "/v1/validators") {
    const at = asked ?? chain.head + 1;
    if (at < 1 || at > chain.head + 2) return notYet;
    return validatorsJson(at, chain.vals.set) as unknown as Json;
  }
  let m = /^\/v1\/headers\/(\d+)$/.exec(p);
  if (m) {
    const h = Number(m[1]);
    if (h > chain.head) return new Refusal("NOT_FOUND", "no final header at this height");
    return chain.certified(h) as unknown as Json;
  }
  m = /^\/v1\/blocks\/([^/]+)$/.exec(p);
  if (m) {
    const id = m[1]!;
    const h =
      id === "latest"
        ? chain.head
        : id.length === 64
          ? chain.headers.findIndex((x) => toHex(blockHash(x)) === id)
          : Number(id);
    if (h < 1 || h > chain.head) return new Refusal("NOT_FOUND", "no final block with this id");
    return chain.block(h) as unknown as Json;
  }
  m = /^\/v1\/accounts\/([^/]+)$/.exec(p);
  if (m) {
    const address = chain.decodeAddress(m[1]!);
    if (!address) return new Refusal("REQUEST_INVALID", "unknown address in this test");
    const h = asked ?? chain.head;
    if (h > chain.head) return notYet;
    return (await chain.account(address, h)) as unknown as Json;
  }
  m = /^\/v1\/transactions\/([0-9a-f]{64})$/.exec(p);
  if (m) {
    const tx = chain.transaction(m[1]!);
    return tx ? (tx as unknown as Json) : new Refusal("NOT_FOUND", "never seen");
  }
  return new Refusal("NOT_FOUND", `no route ${p}`);
}

/** A 200 body that is not JSON at all: the one change leafMutations cannot express. */
export const NOT_JSON: LeafMutation = { path: "", kind: "answer-not-json", apply: (a) => a };

/**
 * A fake server over `chain`: `tamper` (when set) changes the answers of
 * the paths it matches, the way a lying server would.
 */
export function fakeServer(chain: ServedChain) {
  const state: { tamper: { match: (path: string) => boolean; mutation: LeafMutation } | null } = {
    tamper: null,
  };
  const fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const url = new URL(String(input));
    const result = await answer(chain, url);
    if (result instanceof Refusal) {
      const body: ErrorJson = { code: result.code, message: result.message, details: {} };
      return Response.json(body, { status: apiErrorStatus[result.code] });
    }
    const t = state.tamper;
    if (t?.match(url.pathname + url.search)) {
      if (t.mutation === NOT_JSON)
        return new Response("<html>not json</html>", {
          status: 200,
          headers: { "content-type": "text/html" },
        });
      return Response.json(t.mutation.apply(result));
    }
    return Response.json(result);
  };
  return { state, fetch: fetch as typeof globalThis.fetch };
}

const verifier = createNativeVerifier();

export type Temperature = "cold" | "warm";

/** A client of `server`; warm: it verified the header at `height` and the head first. */
export async function clientOf(
  chain: ServedChain,
  server: ReturnType<typeof fakeServer>,
  temperature: Temperature,
  height: number,
): Promise<Client> {
  const client = createClient({
    transport: http("http://server.test", { fetch: server.fetch, retries: 0 }),
    chainId: CHAIN_ID,
    trust: { genesisHash: chain.genesisHash },
    verifier,
    // This server never lags: a "latest" answer one block old is a forgery
    // here (against real servers a block or two is allowed, maxLagBlocks).
    maxLagBlocks: 0,
  });
  if (temperature === "warm") {
    await client.lightClient.header(height);
    await client.lightClient.header(chain.head);
  }
  return client;
}

/** The VERIFY_* code a verification rejects with, "ok" if it passes, or what else it threw. */
export async function verdictOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof VerificationError ? err.code : `not a VerificationError: ${err}`;
  }
}
