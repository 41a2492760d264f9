/**
 * The light client: what lets the SDK talk to servers it does not trust.
 * Trust starts at an anchor the app pins (the genesis hash, or a checkpoint
 * header hash) and grows only through headers whose finality certificates
 * check out against the validator sets that follow from it:
 *
 *   - the anchor: the server's genesis (or checkpoint) header must hash to
 *     the pinned value, and the set it names must hash to its validatorsHash;
 *   - a later header: skipping verification from the highest verified header
 *     below it (protocol/headerChain.ts, verifySkippingHeader: final under
 *     its own set, and signed by more than 1/3 of the trusted next set); when
 *     too little of the trusted set signed, bisect (verify a header in
 *     between first: the middle one, or the nearest one a pruning node
 *     kept, see #pivot); when the trusted header is older than the trusting
 *     period, walk one height at a time instead (verifyNextHeader), which
 *     needs no assumption about old validators;
 *   - a header at or below the latest verified height: it must be a verified
 *     one, or verify by skipping from the highest verified header below it.
 *
 * The latest verified header can be persisted (TrustStore) so a restart does
 * not verify from the anchor again. Every failure is a VerificationError
 * naming what failed; nothing unverified is ever added.
 */
import { pathOf, paths } from "../../api/paths.ts";
import type { CertifiedHeaderJson, GenesisJson } from "../../api/types.ts";
import { VerificationError, verificationFailed } from "../../errors/client.ts";
import { ApiError, HeaderChainError } from "../../errors/protocol.ts";
import { type BlockHeader, blockHash, decodeBlockHeader } from "../../protocol/block.ts";
import { equalBytes, fromHex, toHex } from "../../protocol/bytes.ts";
import {
  decodeFinalityCertificate,
  encodeFinalityCertificate,
  type FinalityCertificate,
  genesisCertificate,
} from "../../protocol/finalityCertificate.ts";
import {
  type CertifiedHeader,
  type TrustedHeader,
  verifyCommittedHeader,
  verifyNextHeader,
  verifySkippingHeader,
} from "../../protocol/headerChain.ts";
import type { SignatureVerifier } from "../../protocol/signatures/backend.ts";
import type { Transport } from "../transports/transport.ts";
import { verifyGenesisAnswer } from "./genesis.ts";
import { readTrusted, type TrustAnchor, type TrustStore, writeTrusted } from "./trust.ts";
import { ValidatorSets } from "./validatorSets.ts";

export interface LightClientOptions {
  readonly chainId: string;
  readonly trust: TrustAnchor;
  readonly transport: Transport;
  readonly verifier: SignatureVerifier;
  readonly store?: TrustStore;
  /**
   * Skipping trusts that fewer than 1/3 of a validator set turn Byzantine
   * within this long after a header it signed (ms). Older trusted headers
   * are followed one height at a time instead. Default 14 days.
   */
  readonly trustingPeriodMs?: number;
  /**
   * How far ahead of this client's clock a header's time may be (ms).
   * Validators refuse untimely proposals, so a later time is a forgery or a
   * broken clock; believing it would also keep trust "fresh" for longer than
   * the trusting period. Default 10 s (CometBFT's light client's too).
   */
  readonly maxClockDriftMs?: number;
  readonly now?: () => number;
}

interface Verified extends TrustedHeader {
  readonly hash: Uint8Array;
  /**
   * The certificates (canonical bytes, hex) this client has checked for the
   * header: one answer's certificate proves nothing about the next answer's,
   * so a known header with unknown certificate bytes is checked again.
   * Empty for an anchor or a header read back from the trust store.
   */
  readonly certificates: Set<string>;
}

/** A header and the certificate the light client checked it with (or one it checked before). */
export interface VerifiedCertifiedHeader {
  readonly header: BlockHeader;
  readonly certificate: FinalityCertificate;
}

/** Most verified headers kept in memory (the anchor and the latest always stay). */
const MAX_VERIFIED = 512;
/** Most certificates remembered per header (nodes keep different valid ones; more are checked each time). */
const MAX_CERTIFICATES = 4;
const DEFAULT_TRUSTING_PERIOD_MS = 14 * 24 * 3600 * 1000;
const DEFAULT_MAX_CLOCK_DRIFT_MS = 10_000;

export class LightClient {
  readonly #o: LightClientOptions;
  readonly #trustingPeriod: number;
  readonly #maxClockDrift: number;
  readonly #now: () => number;
  /** Verified headers by height. */
  readonly #verified = new Map<number, Verified>();
  #anchorHeight = 0;
  #latest: Verified | null = null;
  #ready: Promise<void> | null = null;
  readonly #sets: ValidatorSets;

  constructor(options: LightClientOptions) {
    this.#o = options;
    this.#trustingPeriod = options.trustingPeriodMs ?? DEFAULT_TRUSTING_PERIOD_MS;
    this.#maxClockDrift = options.maxClockDriftMs ?? DEFAULT_MAX_CLOCK_DRIFT_MS;
    this.#now = options.now ?? Date.now;
    this.#sets = new ValidatorSets(options.transport);
  }

  /** The highest verified header (after `ready()`). */
  get latest(): BlockHeader | null {
    return this.#latest?.header ?? null;
  }

  /** Loads persisted trust or verifies the anchor; once. */
  ready(): Promise<void> {
    this.#ready ??= this.#init().catch((err: unknown) => {
      this.#ready = null;
      throw err;
    });
    return this.#ready;
  }

  async #init(): Promise<void> {
    const anchorKey = JSON.stringify(this.#o.trust);
    const anchor = await this.#fetchAnchor();
    this.#anchorHeight = anchor.header.height;
    // The genesis has no certificate to check but its conventional one; a
    // checkpoint's is checked against its set like any other.
    const certificates = new Set<string>(
      anchor.header.height === 0
        ? [toHex(encodeFinalityCertificate(genesisCertificate(anchor.hash)))]
        : [],
    );
    this.#remember({ ...anchor, certificates });
    const raw = await this.#o.store?.load();
    const stored = raw ? readTrusted(raw, { chainId: this.#o.chainId, anchor: anchorKey }) : null;
    // Our own earlier verification, read back from storage we control.
    if (stored && stored.header.height > anchor.header.height)
      this.#remember({ ...stored, hash: blockHash(stored.header), certificates: new Set() });
  }

  async #fetchAnchor(): Promise<TrustedHeader & { readonly hash: Uint8Array }> {
    const { trust, transport, chainId } = this.#o;
    try {
      if ("genesisHash" in trust) {
        const g = await transport.request<GenesisJson>({
          method: "GET",
          path: paths.getGenesis,
        });
        return verifyGenesisAnswer(g, { chainId, genesisHash: trust.genesisHash });
      }
      const { height, hash: pinned } = trust.checkpoint;
      const certified = await this.#fetchHeader(height);
      const header = decodeBlockHeader(fromHex(certified.headerBytes));
      const hash = blockHash(header);
      if (toHex(hash) !== pinned.toLowerCase() || header.chainId !== chainId)
        throw new VerificationError(
          "VERIFY_ANCHOR",
          "The server's header at the checkpoint height is not the trusted checkpoint.",
          { details: { height, trusted: pinned, served: toHex(hash) } },
        );
      const validators = await this.#sets.fetch(height, header.validatorsHash);
      return { header, validators, hash };
    } catch (err) {
      if (err instanceof VerificationError) throw err;
      if (err instanceof HeaderChainError)
        throw verificationFailed("VERIFY_HEADER", "Anchor not verified", err);
      throw err;
    }
  }

  /**
   * Verifies a certified header the server sent (an answer's `block`),
   * returning the header to check proofs against. Throws VerificationError.
   */
  async verifyCertified(json: CertifiedHeaderJson): Promise<BlockHeader> {
    return (await this.verifyCertifiedHeader(json)).header;
  }

  /**
   * Verifies a certified header, header and certificate both, and returns
   * them as checked: what a server passing answers on (the edge) may serve.
   * A header already verified is not walked to again, but a certificate
   * this client has not checked for it is verified against the set that
   * signed it, so a lying server cannot attach a broken one to a known header.
   */
  async verifyCertifiedHeader(json: CertifiedHeaderJson): Promise<VerifiedCertifiedHeader> {
    await this.ready();
    let certified: Omit<CertifiedHeader, "validators">;
    let certificateHex: string;
    try {
      const header = decodeBlockHeader(fromHex(json.headerBytes));
      const certificateBytes = fromHex(json.certificateBytes);
      const certificate = decodeFinalityCertificate(certificateBytes);
      certified = { header, certificate };
      // The codec is canonical: the bytes that decoded are the certificate's encoding.
      certificateHex = toHex(certificateBytes);
    } catch (err) {
      throw new VerificationError("VERIFY_HEADER", "The certified header does not decode.", {
        cause: err,
      });
    }
    const verified = await this.#verifyTo(certified);
    if (!verified.certificates.has(certificateHex)) {
      if (verified.header.height === 0)
        throw new VerificationError(
          "VERIFY_HEADER",
          "The genesis is trusted by its hash; the only certificate served with it is the empty one.",
        );
      try {
        await verifyCommittedHeader(
          this.#o.chainId,
          { ...certified, validators: verified.validators },
          this.#o.verifier,
        );
      } catch (err) {
        throw verificationFailed(
          "VERIFY_HEADER",
          `The certificate served for height ${verified.header.height} does not finalize it`,
          err,
        );
      }
      if (verified.certificates.size < MAX_CERTIFICATES) verified.certificates.add(certificateHex);
    }
    return { header: verified.header, certificate: certified.certificate };
  }

  /** The verified header at `height` (fetched from the server and verified). */
  async header(height: number): Promise<BlockHeader> {
    await this.ready();
    const known = this.#verified.get(height);
    if (known) return known.header;
    const json = await this.#fetchHeader(height);
    const header = await this.verifyCertified(json);
    // A valid header of another height must not pass for this one.
    if (header.height !== height)
      throw new VerificationError(
        "VERIFY_MISMATCH",
        `Asked for the header at height ${height}, the server sent height ${header.height}.`,
      );
    return header;
  }

  async #verifyTo(target: Omit<CertifiedHeader, "validators">): Promise<Verified> {
    const { header } = target;
    const height = header.height;
    const hash = blockHash(header);
    const known = this.#verified.get(height);
    if (known) {
      if (!equalBytes(known.hash, hash))
        throw new VerificationError(
          "VERIFY_HEADER",
          `The header served for height ${height} is not the one this client verified.`,
        );
      return known;
    }
    if (header.chainId !== this.#o.chainId)
      throw new VerificationError("VERIFY_HEADER", "The header belongs to another chain.");
    if (height <= this.#anchorHeight)
      throw new VerificationError(
        "VERIFY_HEADER",
        `Height ${height} is at or below the trust anchor (${this.#anchorHeight}); it cannot be verified from it.`,
      );
    const now = this.#now();
    if (header.time > now + this.#maxClockDrift)
      throw new VerificationError(
        "VERIFY_HEADER",
        `The header at height ${height} is stamped ${header.time - now} ms ahead of this client's clock.`,
        { details: { height, time: header.time, now, maxClockDriftMs: this.#maxClockDrift } },
      );
    const validators = await this.#sets.fetch(height, header.validatorsHash);
    const full: CertifiedHeader = { ...target, validators };
    let base = this.#below(height);
    for (;;) {
      try {
        const next = await this.#step(base, full);
        const verified: Verified = {
          ...next,
          hash,
          certificates: new Set([toHex(encodeFinalityCertificate(target.certificate))]),
        };
        this.#remember(verified);
        return verified;
      } catch (err) {
        if (err instanceof HeaderChainError && err.code === "HEADER_NOT_ENOUGH_TRUST") {
          // Bisect: trust a header in between first, then skip from it.
          base = await this.#verifyTo(await this.#pivot(base.header.height, height));
          continue;
        }
        if (err instanceof VerificationError) throw err;
        if (
          err instanceof HeaderChainError ||
          (err as { name?: string }).name === "CertificateError"
        )
          throw verificationFailed(
            "VERIFY_HEADER",
            `Header ${height} does not follow from trusted header ${base.header.height}`,
            err,
          );
        throw err;
      }
    }
  }

  /** One step from `base` to `target`: skipping while base is fresh, else height by height. */
  async #step(base: Verified, target: CertifiedHeader): Promise<TrustedHeader> {
    const { verifier } = this.#o;
    if (target.header.height === base.header.height + 1)
      return verifyNextHeader(base, target, verifier);
    const fresh = base.header.time + this.#trustingPeriod > this.#now();
    if (fresh) {
      const trustedNext = await this.#sets.fetch(
        base.header.height + 1,
        base.header.nextValidatorsHash,
      );
      return verifySkippingHeader(base, trustedNext, target, verifier);
    }
    // Expired trust: walk up one height at a time.
    let current: Verified = base;
    while (current.header.height + 1 < target.header.height) {
      current = await this.#verifyTo(await this.#decodedHeader(current.header.height + 1));
    }
    return verifyNextHeader(current, target, verifier);
  }

  /** The highest verified header below `height`. */
  #below(height: number): Verified {
    let best: Verified | null = null;
    for (const v of this.#verified.values())
      if (v.header.height < height && (!best || v.header.height > best.header.height)) best = v;
    if (!best) throw new VerificationError("VERIFY_HEADER", "No trusted header below this height.");
    return best;
  }

  #remember(v: Verified): void {
    this.#verified.set(v.header.height, v);
    // Its set is checked too (it hashes to the header's, or the anchor's next, set hash).
    this.#sets.remember(v.validators);
    const isLatest = !this.#latest || v.header.height > this.#latest.header.height;
    if (isLatest) {
      this.#latest = v;
      void this.#persist(v);
    }
    if (this.#verified.size > MAX_VERIFIED) {
      // Drop the oldest that is neither the anchor nor the latest.
      for (const h of [...this.#verified.keys()].sort((a, b) => a - b)) {
        if (h === this.#anchorHeight || h === this.#latest?.header.height) continue;
        this.#verified.delete(h);
        break;
      }
    }
  }

  async #persist(v: Verified): Promise<void> {
    if (!this.#o.store || v.header.height === this.#anchorHeight) return;
    const value = writeTrusted(v, {
      chainId: this.#o.chainId,
      anchor: JSON.stringify(this.#o.trust),
    });
    await this.#o.store.save(value).catch(() => undefined);
  }

  async #fetchHeader(height: number): Promise<CertifiedHeaderJson> {
    return this.#o.transport.request<CertifiedHeaderJson>({
      method: "GET",
      path: pathOf("getHeader", { height }),
    });
  }

  /**
   * A header strictly between `from` and `to` to bisect at: the middle one,
   * or, when the server dropped it (HEADER_PRUNED: pruning.retainHeaders),
   * the nearest one it kept. Such a node keeps every header where the
   * validator set changes, and from the last header a set signs, the next
   * set's headers follow by skipping, so the kept ones suffice. The heights
   * are the server's word but only choose what to fetch, strictly inside
   * (from, to) so bisection still ends; the header fetched is verified.
   */
  async #pivot(from: number, to: number): Promise<Omit<CertifiedHeader, "validators">> {
    try {
      return await this.#decodedHeader(Math.floor((from + to) / 2));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === "HEADER_PRUNED")) throw err;
      const inside = (h: unknown): h is number =>
        typeof h === "number" && Number.isSafeInteger(h) && h > from && h < to;
      const { keptBelow, keptAbove } = err.details;
      const next = inside(keptBelow) ? keptBelow : inside(keptAbove) ? keptAbove : null;
      if (next === null)
        throw new VerificationError(
          "VERIFY_HEADER",
          `The server keeps no header between heights ${from} and ${to} to verify through; use a node that keeps every validator-set change, or an archive.`,
          { details: { from, to }, cause: err },
        );
      return this.#decodedHeader(next);
    }
  }

  async #decodedHeader(height: number): Promise<Omit<CertifiedHeader, "validators">> {
    const json = await this.#fetchHeader(height);
    try {
      return {
        header: decodeBlockHeader(fromHex(json.headerBytes)),
        certificate: decodeFinalityCertificate(fromHex(json.certificateBytes)),
      };
    } catch (err) {
      throw new VerificationError("VERIFY_HEADER", "A header served does not decode.", {
        cause: err,
      });
    }
  }

  /** The set that signs `height`, checked against the hash a verified (or verifying) header names. */
}
