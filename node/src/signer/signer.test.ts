/**
 * The remote signer end to end over its real transport (libp2p, Noise, on
 * 127.0.0.1): whom the handshake lets through, what a bad request gets, and
 * that two validators racing conflicting votes get one signature between them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SignedVote, type Vote, voteDigest } from "@edgeledger/sdk/protocol";
import { createNativeVerifier, nativeSigner } from "@edgeledger/sdk/protocol/node";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { LocalSigningGuard } from "../consensus/signingGuard.ts";
import { finish, frame, openRequest } from "../sync/frames.ts";
import { CHAIN, keyOf } from "../testing/fixtures.ts";
import { SignerClient } from "./client.ts";
import { RemoteSignerError } from "./errors.ts";
import { LevelSigningStore } from "./levelStore.ts";
import { RemoteSigningGuard } from "./remoteGuard.ts";
import { type RunningSigner, startSignerServer } from "./server.ts";
import { SignerService } from "./service.ts";
import { createSignerLink } from "./transport.ts";
import { decodeReply, encodeRequest, MAX_REPLY_BYTES, SIGNER_PROTOCOL } from "./wire.ts";

const log = pino({ level: "silent" });
const validator = keyOf(7);
const dirs: string[] = [];
const running: { stop(): void | Promise<void> }[] = [];

afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function signer(
  allowed: PrivateKey[],
  ratePerSecond = 1000,
  again?: { key: PrivateKey; listen: string },
) {
  const dir = mkdtempSync(join(tmpdir(), "signer-"));
  dirs.push(dir);
  const key = again?.key ?? (await generateKeyPair("Ed25519"));
  const store = new LevelSigningStore(join(dir, "signing"));
  await store.open();
  running.push({ stop: () => store.close() });
  const guard = new LocalSigningGuard(store, nativeSigner(validator), CHAIN);
  const server: RunningSigner = await startSignerServer(
    {
      listen: again?.listen ?? "127.0.0.1:0",
      connectionKey: key,
      allowed: allowed.map((k) => peerIdFromPrivateKey(k)),
      ratePerSecond,
      deadlines: { idleMs: 1000, totalMs: 2000 },
      now: Date.now,
    },
    new SignerService({ chainId: CHAIN, guard }),
    log,
  );
  running.push(server);
  return { server, key, peer: peerIdFromPrivateKey(key) };
}

async function client(address: string, pinned: PrivateKey, own: PrivateKey) {
  const c = new SignerClient(
    {
      address,
      signer: peerIdFromPrivateKey(pinned),
      chainId: CHAIN,
      timeoutMs: 1000,
      backoffMs: { min: 20, max: 100 },
    },
    log,
  );
  await c.start(own);
  running.push(c);
  return c;
}

const prevote = (blockByte: number | null, round = 0): Vote => ({
  type: "prevote",
  height: 5,
  round,
  blockHash: blockByte === null ? null : new Uint8Array(32).fill(blockByte),
  validator: validator.publicKey,
});

/** Sends raw bytes as one request on a connection the signer accepted; returns its decoded reply. */
async function rawRequest(address: string, peer: PrivateKey, own: PrivateKey, bytes: Uint8Array) {
  const link = await createSignerLink({ key: own, gater: {} });
  await link.start();
  running.push(link);
  const [host, port] = address.split(":");
  const { multiaddr } = await import("@multiformats/multiaddr");
  await link.dial(multiaddr(`/ip4/${host}/tcp/${port}/p2p/${peerIdFromPrivateKey(peer)}`));
  const ex = await openRequest(link, peerIdFromPrivateKey(peer), SIGNER_PROTOCOL, bytes, {
    deadlines: { idleMs: 1000, totalMs: 2000 },
    limit: MAX_REPLY_BYTES + 4,
    what: "answer",
  });
  try {
    const reply = await ex.reader.frame(MAX_REPLY_BYTES, "reply");
    return decodeReply(reply!);
  } finally {
    finish(ex);
  }
}

/** Polls `done` every 10 ms for at most 5 s (a deadline, not a guess). */
async function waitFor(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("condition not met within 5 s");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One signer and two validator processes of its key (an active one and a hot standby), both connected. */
async function activeAndStandby() {
  const active = await generateKeyPair("Ed25519");
  const standby = await generateKeyPair("Ed25519");
  const s = await signer([active, standby]);
  const a = await client(s.server.address, s.key, active);
  const b = await client(s.server.address, s.key, standby);
  expect(await a.ready(5000)).toBe(true);
  expect(await b.ready(5000)).toBe(true);
  return { a, b };
}

describe("remote signer", () => {
  it("signs for a validator whose connection key it lists, and the signature verifies", async () => {
    const own = await generateKeyPair("Ed25519");
    const s = await signer([own]);
    const c = await client(s.server.address, s.key, own);
    expect(await c.ready(5000)).toBe(true);
    expect(c.validator).toEqual(validator.publicKey);
    const signature = await c.request({
      kind: "vote",
      chainId: CHAIN,
      vote: prevote(1),
      polRound: null,
    });
    const ok = await createNativeVerifier().verify(
      signature,
      voteDigest(CHAIN, prevote(1)),
      validator.publicKey,
    );
    expect(ok).toBe(true);
  });

  it("refuses, in the handshake, a validator connection key it does not list", async () => {
    const listed = await generateKeyPair("Ed25519");
    const stranger = await generateKeyPair("Ed25519");
    const s = await signer([listed]);
    await expect(
      rawRequest(
        s.server.address,
        s.key,
        stranger,
        frame(encodeRequest({ kind: "identity", chainId: CHAIN })),
      ),
    ).rejects.toThrow();
    const c = await client(s.server.address, s.key, stranger);
    expect(await c.ready(1500)).toBe(false);
    await expect(
      c.request({ kind: "vote", chainId: CHAIN, vote: prevote(1), polRound: null }),
    ).rejects.toMatchObject({ code: "REMOTE_SIGNER_UNREACHABLE" });
  });

  it("does not talk to a signer whose connection key is not the one pinned", async () => {
    const own = await generateKeyPair("Ed25519");
    const s = await signer([own]);
    const impostorPin = await generateKeyPair("Ed25519");
    const c = await client(s.server.address, impostorPin, own);
    expect(await c.ready(1500)).toBe(false);
    expect(c.validator).toBeNull();
    await expect(
      c.request({ kind: "vote", chainId: CHAIN, vote: prevote(1), polRound: null }),
    ).rejects.toBeInstanceOf(RemoteSignerError);
  });

  it("answers a malformed or oversized request with a typed error, and keeps serving", async () => {
    const own = await generateKeyPair("Ed25519");
    const s = await signer([own]);
    const garbage = await rawRequest(s.server.address, s.key, own, frame(Uint8Array.of(9, 9, 9)));
    expect(garbage).toMatchObject({ kind: "error", code: "REMOTE_SIGNER_MALFORMED" });
    // A prefix claiming 1 MiB, then some of it: refused on the prefix, before the body is read.
    const huge = new Uint8Array(4 + 2048);
    new DataView(huge.buffer).setUint32(0, 1 << 20);
    const oversized = await rawRequest(s.server.address, s.key, own, huge);
    expect(oversized).toMatchObject({ kind: "error", code: "REMOTE_SIGNER_TOO_LARGE" });
    const wrongChain = await rawRequest(
      s.server.address,
      s.key,
      own,
      frame(
        encodeRequest({ kind: "vote", chainId: "other-chain", vote: prevote(1), polRound: null }),
      ),
    );
    expect(wrongChain).toMatchObject({ kind: "error", code: "REMOTE_SIGNER_WRONG_CHAIN" });
    const stranger = keyOf(8).publicKey;
    const wrongValidator = await rawRequest(
      s.server.address,
      s.key,
      own,
      frame(
        encodeRequest({
          kind: "vote",
          chainId: CHAIN,
          vote: { ...prevote(1), validator: stranger },
          polRound: null,
        }),
      ),
    );
    expect(wrongValidator).toMatchObject({ kind: "error", code: "REMOTE_SIGNER_WRONG_VALIDATOR" });
    const good = await rawRequest(
      s.server.address,
      s.key,
      own,
      frame(encodeRequest({ kind: "vote", chainId: CHAIN, vote: prevote(1), polRound: null })),
    );
    expect(good.kind).toBe("signature");
  });

  it("refuses requests past its rate before decoding them", async () => {
    const own = await generateKeyPair("Ed25519");
    const s = await signer([own], 2);
    const c = await client(s.server.address, s.key, own);
    expect(await c.ready(5000)).toBe(true); // the identity took one token of two
    await c.request({ kind: "vote", chainId: CHAIN, vote: prevote(1), polRound: null });
    await expect(
      c.request({ kind: "vote", chainId: CHAIN, vote: prevote(1), polRound: null }),
    ).rejects.toMatchObject({ code: "REMOTE_SIGNER_RATE_LIMITED" });
  });

  it("two validators racing conflicting votes get one signature between them; a repeat gets the same one", async () => {
    const { a, b } = await activeAndStandby();
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled([
        a.request({ kind: "vote", chainId: CHAIN, vote: prevote(1, round), polRound: null }),
        b.request({ kind: "vote", chainId: CHAIN, vote: prevote(null, round), polRound: null }),
      ]);
      const signed = results.filter((r) => r.status === "fulfilled");
      const refused = results.filter((r) => r.status === "rejected");
      expect(signed).toHaveLength(1);
      expect(refused[0]?.reason).toMatchObject({ code: "REMOTE_SIGNER_CONFLICT" });
      // Whoever won, the identical request again gets the identical signature (ed25519 is deterministic).
      const winner = results[0]?.status === "fulfilled" ? prevote(1, round) : prevote(null, round);
      const again = await b.request({ kind: "vote", chainId: CHAIN, vote: winner, polRound: null });
      expect(again).toEqual((signed[0] as PromiseFulfilledResult<Uint8Array>).value);
    }
    // No going back: a round below the highest signed is refused too.
    await expect(
      a.request({ kind: "vote", chainId: CHAIN, vote: prevote(2, 1), polRound: null }),
    ).rejects.toMatchObject({ code: "REMOTE_SIGNER_CONFLICT" });
  });

  it("a standby that does not know its twin locked cannot prevote against the lock through the signer", async () => {
    const { a, b } = await activeAndStandby();
    const vote = (type: Vote["type"], round: number, block: number | null): Vote => ({
      ...prevote(block, round),
      type,
    });
    // The active one locks on block 1 in round 0 (then dies, say).
    await a.request({
      kind: "vote",
      chainId: CHAIN,
      vote: vote("precommit", 0, 1),
      polRound: null,
    });
    // The standby, whose own journal knows nothing of it, prevotes block 2 in round 1.
    await expect(
      b.request({ kind: "vote", chainId: CHAIN, vote: vote("prevote", 1, 2), polRound: null }),
    ).rejects.toMatchObject({ code: "REMOTE_SIGNER_CONFLICT" });
    // nil, the locked block, or block 2 with a polka since the lock are signed.
    await b.request({
      kind: "vote",
      chainId: CHAIN,
      vote: vote("prevote", 2, null),
      polRound: null,
    });
    await b.request({ kind: "vote", chainId: CHAIN, vote: vote("prevote", 3, 1), polRound: null });
    const unlocked = await b.request({
      kind: "vote",
      chainId: CHAIN,
      vote: vote("prevote", 4, 2),
      polRound: 0,
    });
    expect(unlocked).toHaveLength(64);
  });

  it("while the signer is down the validator's guard does not sign; once the signer is back it sends the missed vote late and signs again", async () => {
    const own = await generateKeyPair("Ed25519");
    const first = await signer([own]);
    const c = await client(first.server.address, first.key, own);
    expect(await c.ready(5000)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "remote-guard-"));
    dirs.push(dir);
    const store = new LevelSigningStore(join(dir, "journal"));
    await store.open();
    running.push({ stop: () => store.close() });
    const guard = new RemoteSigningGuard(store, {
      client: c,
      chainId: CHAIN,
      verifier: createNativeVerifier(),
      log,
    });
    const late: SignedVote[] = [];
    guard.onLateVote((vote) => late.push(vote));
    expect(guard.publicKey).toEqual(validator.publicKey);
    expect(await guard.signVote(prevote(1, 0))).not.toBeNull();
    await first.server.stop();
    await waitFor(() => !c.connected);
    expect(await guard.signVote(prevote(1, 1))).toBeNull();
    await signer([own], 1000, { key: first.key, listen: first.server.address });
    await waitFor(() => c.connected);
    // The vote it could not sign goes out late (the engine counted it as cast), once.
    await waitFor(() => late.length === 1);
    expect(late[0]?.vote).toEqual(prevote(1, 1));
    expect(
      await createNativeVerifier().verify(
        late[0]!.signature,
        voteDigest(CHAIN, prevote(1, 1)),
        validator.publicKey,
      ),
    ).toBe(true);
    expect(await guard.signVote(prevote(1, 2))).not.toBeNull();
    expect(late).toHaveLength(1);
  });

  it("keeps its journal across a restart: a conflicting vote is still refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signer-journal-"));
    dirs.push(dir);
    const path = join(dir, "signing");
    const before = new LevelSigningStore(path);
    await before.open();
    const first = new LocalSigningGuard(before, nativeSigner(validator), CHAIN);
    expect(await first.signVote(prevote(1))).not.toBeNull();
    await before.close();
    const after = new LevelSigningStore(path);
    await after.open();
    running.push({ stop: () => after.close() });
    const again = new LocalSigningGuard(after, nativeSigner(validator), CHAIN);
    expect(await again.signVote(prevote(2))).toBeNull();
    expect(await again.signVote(prevote(1))).not.toBeNull();
  });
});
