/**
 * The validator's end of its signer: one persistent connection (a libp2p
 * link that listens on nothing, dialing only the pinned signer key), kept
 * up by a loop that redials with exponential backoff when it drops, and one
 * short stream per request on it, within the signing timeout. While not
 * connected a request fails at once (REMOTE_SIGNER_UNREACHABLE) rather than
 * waiting: the validator then does not sign, and consensus goes on without
 * its vote until the signer is back.
 */
import { equalBytes } from "@edgeledger/sdk/protocol";
import type { PeerId, PrivateKey } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import type { Logger } from "pino";
import { SyncError } from "../sync/errors.ts";
import { finish, frame, openRequest } from "../sync/frames.ts";
import { RemoteSignerError } from "./errors.ts";
import { createSignerLink, type SignerLink, signerMultiaddr } from "./transport.ts";
import {
  decodeReply,
  encodeRequest,
  MAX_REPLY_BYTES,
  SIGNER_PROTOCOL,
  type SignerReply,
  type SignerRequest,
} from "./wire.ts";

export interface SignerClientOptions {
  /** The signer's host:port. */
  readonly address: string;
  /** The peer id of the signer's connection key (from config: the only key accepted). */
  readonly signer: PeerId;
  readonly chainId: string;
  /** The most a signature may take, dial to reply (ms). */
  readonly timeoutMs: number;
  /** Redial backoff: first wait and cap (ms). */
  readonly backoffMs: { readonly min: number; readonly max: number };
}

export const defaultSignerClientTimings = {
  timeoutMs: 2000,
  backoffMs: { min: 100, max: 2000 },
} as const;

/**
 * How long a request made while disconnected waits for the redial it
 * triggers: a signer restarted on the same host is back within a few tens
 * of ms, and the driver waits on each signature, so not longer.
 */
const RECONNECT_WAIT_MS = 500;

export class SignerClient {
  readonly #options: SignerClientOptions;
  readonly #log: Logger;
  readonly #target: Multiaddr;
  #link: SignerLink | null = null;
  #validator: Uint8Array | null = null;
  #connected = false;
  #stopped = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  /** Requests waiting for a redial they asked for. */
  readonly #waiters: (() => void)[] = [];
  readonly #connectedListeners: (() => void)[] = [];
  /** Resolved on the first identity, so a starting node can wait for its key (bounded). */
  #onIdentified: (() => void) | null = null;
  readonly #identified = new Promise<void>((resolve) => {
    this.#onIdentified = resolve;
  });

  constructor(options: SignerClientOptions, log: Logger) {
    this.#options = options;
    this.#log = log;
    this.#target = signerMultiaddr(options.address, options.signer);
  }

  /** The validator key the signer holds, once it said; null before. */
  get validator(): Uint8Array | null {
    return this.#validator;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** `connectionKey`: this validator's connection key (its node key), which the signer lists. */
  async start(connectionKey: PrivateKey): Promise<void> {
    const signer = this.#options.signer;
    this.#link = await createSignerLink({
      key: connectionKey,
      gater: {
        denyInboundConnection: () => true,
        denyOutboundEncryptedConnection: (peer) => !peer.equals(signer),
      },
    });
    await this.#link.start();
    this.#link.addEventListener("peer:disconnect", (evt) => {
      if (!evt.detail.equals(signer)) return;
      this.#connected = false;
      this.#log.warn(
        { signer: this.#options.address },
        "remote signer disconnected; not signing until it is back",
      );
      this.#poke();
    });
    this.#loop = this.#maintain();
  }

  /** Called after each (re)connection, once the signer named its key. */
  onConnected(listener: () => void): void {
    this.#connectedListeners.push(listener);
  }

  async #connectedWithin(ms: number): Promise<void> {
    if (this.#connected) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#waiters.push(done);
    });
  }

  /** Resolves once the signer named its validator key, or after `ms` (false). */
  async ready(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const ok = await Promise.race([this.#identified.then(() => true), timeout]);
    clearTimeout(timer);
    return ok;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#poke();
    await this.#link?.stop();
    await this.#loop;
  }

  /** The signer's reply to `request`; REMOTE_SIGNER_* on any failure (never hangs past the timeout). */
  async request(request: Exclude<SignerRequest, { kind: "identity" }>): Promise<Uint8Array> {
    // Disconnected: redial now rather than at the end of the backoff, and wait a little for it.
    if (!this.#connected && this.#link) {
      this.#poke();
      await this.#connectedWithin(RECONNECT_WAIT_MS);
    }
    if (!this.#connected || !this.#link)
      throw new RemoteSignerError(
        "REMOTE_SIGNER_UNREACHABLE",
        `Not connected to the remote signer at ${this.#options.address}.`,
      );
    const reply = await this.#exchange(request);
    if (reply.kind === "signature") return reply.signature;
    if (reply.kind === "error")
      throw new RemoteSignerError(reply.code, `The signer refused: ${reply.message}`);
    throw RemoteSignerError.malformed("The signer's reply (an identity to a signing request)");
  }

  async #exchange(request: SignerRequest): Promise<SignerReply> {
    const link = this.#link;
    if (!link)
      throw new RemoteSignerError("REMOTE_SIGNER_UNREACHABLE", "The signer link is stopped.");
    const ms = this.#options.timeoutMs;
    let exchange: Awaited<ReturnType<typeof openRequest>> | null = null;
    try {
      exchange = await openRequest(
        link,
        this.#options.signer,
        SIGNER_PROTOCOL,
        frame(encodeRequest(request)),
        {
          deadlines: { idleMs: ms, totalMs: ms },
          limit: MAX_REPLY_BYTES + 4,
          what: "answer a signing request",
        },
      );
      const bytes = await exchange.reader.frame(MAX_REPLY_BYTES, "The signer's reply");
      if (bytes === null) throw RemoteSignerError.malformed("The signer's empty reply");
      finish(exchange);
      return decodeReply(bytes);
    } catch (err) {
      if (exchange) finish(exchange, err);
      throw asSignerError(err, this.#options.address);
    }
  }

  /** Keeps the connection up: dial, ask the identity, wait for a drop; backoff between failures. */
  async #maintain(): Promise<void> {
    const { min, max } = this.#options.backoffMs;
    let wait = min;
    while (!this.#stopped) {
      if (!this.#connected) {
        try {
          await this.#connect();
          wait = min;
        } catch (err) {
          this.#log.warn(
            { err, signer: this.#options.address, retryMs: wait },
            "cannot reach the remote signer",
          );
          await this.#sleep(wait);
          wait = Math.min(max, wait * 2);
          continue;
        }
      }
      // Connected: sleep until a disconnect (or stop) pokes us.
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  async #connect(): Promise<void> {
    const link = this.#link;
    if (!link) return;
    await link.dial(this.#target, { signal: AbortSignal.timeout(this.#options.timeoutMs) });
    const reply = await this.#exchange({ kind: "identity", chainId: this.#options.chainId });
    if (reply.kind === "error")
      throw new RemoteSignerError(reply.code, `The signer refused: ${reply.message}`);
    if (reply.kind !== "identity" || reply.chainId !== this.#options.chainId)
      throw new RemoteSignerError(
        "REMOTE_SIGNER_WRONG_CHAIN",
        `The signer does not sign for chain "${this.#options.chainId}".`,
      );
    if (this.#validator && !equalBytes(this.#validator, reply.validator)) {
      await link.hangUp(this.#options.signer).catch(() => undefined);
      throw new RemoteSignerError(
        "REMOTE_SIGNER_KEY_CHANGED",
        "The signer now holds another validator key than at start; restart this node to use it.",
      );
    }
    this.#validator = reply.validator;
    this.#connected = true;
    this.#onIdentified?.();
    for (const done of this.#waiters.splice(0)) done();
    for (const listener of this.#connectedListeners) listener();
    this.#log.info({ signer: this.#options.address }, "connected to the remote signer");
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

/** Transport failures (SyncError from frames.ts, dial errors) as the signer's own codes. */
function asSignerError(err: unknown, address: string): RemoteSignerError {
  if (err instanceof RemoteSignerError) return err;
  if (err instanceof SyncError) {
    if (err.code === "SYNC_TIMEOUT")
      return new RemoteSignerError(
        "REMOTE_SIGNER_TIMEOUT",
        `The signer at ${address} did not answer in time.`,
        { cause: err },
      );
    if (err.code === "SYNC_TOO_LARGE")
      return new RemoteSignerError("REMOTE_SIGNER_TOO_LARGE", err.shortMessage, { cause: err });
    return RemoteSignerError.malformed("The signer's reply", { cause: err });
  }
  return new RemoteSignerError(
    "REMOTE_SIGNER_UNREACHABLE",
    `The signer at ${address} cannot be reached.`,
    { cause: err },
  );
}
