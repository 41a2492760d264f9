import { describe, expect, it } from "vitest";
import type { CertificateError, HeaderChainError } from "../errors/protocol.ts";
import { blockHash } from "./block.ts";
import {
  decodeFinalityCertificate,
  encodeFinalityCertificate,
  verifyFinalityCertificate,
} from "./finalityCertificate.ts";
import { verifyHeaderChain, verifyNextHeader, verifySkippingHeader } from "./headerChain.ts";
import { createNativeVerifier } from "./node.ts";
import { createVerifier } from "./signatures/backend.ts";
import { nobleBackend } from "./signatures/noble.ts";
import { webCryptoBackend } from "./signatures/webcrypto.ts";
import { CHAIN_ID, certify, makeHeader, makeValidators } from "./testing/chain.ts";

const verifiers = [
  createNativeVerifier(),
  createVerifier(webCryptoBackend()),
  createVerifier(nobleBackend),
];
const vals = makeValidators(4, 1);
const header = makeHeader(null, vals.set);
const target = {
  chainId: CHAIN_ID,
  height: header.height,
  blockHash: blockHash(header),
  validators: vals.set,
};

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (err) {
    return (err as CertificateError | HeaderChainError).code;
  }
};

describe.each(verifiers)("finality certificate with the $backend verifier", (verifier) => {
  it("accepts more than 2/3 of the power and nothing less", async () => {
    expect(
      await code(verifyFinalityCertificate(certify(header, vals, [0, 1, 2]), target, verifier)),
    ).toBe("ok");
    expect(
      await code(verifyFinalityCertificate(certify(header, vals, [0, 1, 2, 3]), target, verifier)),
    ).toBe("ok");
    expect(
      await code(verifyFinalityCertificate(certify(header, vals, [1, 3]), target, verifier)),
    ).toBe("CERT_INSUFFICIENT_POWER");
  });

  it("weighs validators by power, not by count", async () => {
    const weighted = makeValidators(4, 2, [70n, 10n, 10n, 10n]);
    const h = makeHeader(null, weighted.set);
    const t = { chainId: CHAIN_ID, height: 1, blockHash: blockHash(h), validators: weighted.set };
    const heavy = weighted.set.findIndex((v) => v.power === 70n);
    const light = [0, 1, 2, 3].filter((i) => i !== heavy);
    expect(await code(verifyFinalityCertificate(certify(h, weighted, light), t, verifier))).toBe(
      "CERT_INSUFFICIENT_POWER",
    );
    expect(
      await code(verifyFinalityCertificate(certify(h, weighted, [heavy, light[0]!]), t, verifier)),
    ).toBe("ok");
  });

  it("rejects duplicate, unknown and bad signers, other heights, blocks and chains", async () => {
    const good = certify(header, vals, [0, 1, 2]);
    const dup = {
      ...good,
      signatures: [good.signatures[0]!, good.signatures[0]!, good.signatures[1]!],
    };
    expect(await code(verifyFinalityCertificate(dup, target, verifier))).toBe(
      "CERT_DUPLICATE_SIGNER",
    );
    const unknown = {
      ...good,
      signatures: [
        ...good.signatures,
        { validatorIndex: 9, signature: good.signatures[0]!.signature },
      ],
    };
    expect(await code(verifyFinalityCertificate(unknown, target, verifier))).toBe(
      "CERT_UNKNOWN_SIGNER",
    );
    const swapped = {
      ...good,
      signatures: good.signatures.map((s, i) => ({
        ...s,
        signature: good.signatures[(i + 1) % 3]!.signature,
      })),
    };
    expect(await code(verifyFinalityCertificate(swapped, target, verifier))).toBe(
      "CERT_BAD_SIGNATURE",
    );
    expect(await code(verifyFinalityCertificate(good, { ...target, height: 2 }, verifier))).toBe(
      "CERT_WRONG_HEIGHT",
    );
    expect(
      await code(
        verifyFinalityCertificate(good, { ...target, blockHash: new Uint8Array(32) }, verifier),
      ),
    ).toBe("CERT_WRONG_BLOCK");
    const otherChain = certify(header, vals, [0, 1, 2], { chainId: "other-chain" });
    expect(await code(verifyFinalityCertificate(otherChain, target, verifier))).toBe(
      "CERT_BAD_SIGNATURE",
    );
    // A valid quorum padded with one bad signature is refused whole.
    const padded = {
      ...good,
      signatures: [...good.signatures, { validatorIndex: 3, signature: new Uint8Array(64) }],
    };
    expect(await code(verifyFinalityCertificate(padded, target, verifier))).toBe(
      "CERT_BAD_SIGNATURE",
    );
  });

  it("rejects a certificate with any single byte changed", async () => {
    const encoded = encodeFinalityCertificate(certify(header, vals, [0, 1, 2]));
    for (let i = 0; i < encoded.length; i++) {
      const bad = encoded.slice();
      bad[i]! ^= 0x10;
      const result = await code(
        (async () => verifyFinalityCertificate(decodeFinalityCertificate(bad), target, verifier))(),
      );
      expect(result, `byte ${i}`).not.toBe("ok");
    }
  });
});

describe("header chain", () => {
  const verifier = createNativeVerifier();
  const next = makeValidators(4, 3);

  it("follows a chain across a validator-set change", async () => {
    const h1 = makeHeader(null, vals.set);
    const h2 = makeHeader(h1, vals.set, next.set); // announces the change
    const h3 = makeHeader(h2, next.set); // signed by the new set
    const h4 = makeHeader(h3, next.set);
    const trusted = { header: h1, validators: vals.set };
    const end = await verifyHeaderChain(
      trusted,
      [
        { header: h2, certificate: certify(h2, vals, [0, 1, 2]), validators: vals.set },
        { header: h3, certificate: certify(h3, next, [1, 2, 3]), validators: next.set },
        { header: h4, certificate: certify(h4, next, [0, 2, 3]), validators: next.set },
      ],
      verifier,
    );
    expect(end.header).toBe(h4);
    expect(end.validators).toBe(next.set);
  });

  it("refuses headers that do not follow from the trusted one", async () => {
    const h1 = makeHeader(null, vals.set);
    const trusted = { header: h1, validators: vals.set };
    const step = (h: ReturnType<typeof makeHeader>, v = vals) => ({
      header: h,
      certificate: certify(h, v, [0, 1, 2]),
      validators: v.set,
    });

    // The old set signs after announcing a new one: the set did not hand over.
    const announced = makeHeader(h1, vals.set, next.set);
    const h2 = await verifyNextHeader(trusted, step(announced), verifier);
    expect(await code(verifyNextHeader(h2, step(makeHeader(announced, vals.set)), verifier))).toBe(
      "HEADER_NEXT_VALIDATORS_MISMATCH",
    );
    // A set that signs a header it does not hash to.
    const forged = makeHeader(h1, vals.set);
    expect(
      await code(verifyNextHeader(trusted, { ...step(forged), validators: next.set }, verifier)),
    ).toBe("HEADER_VALIDATORS_MISMATCH");
    expect(
      await code(
        verifyNextHeader(
          trusted,
          step(makeHeader(h1, vals.set, vals.set, { height: 3 })),
          verifier,
        ),
      ),
    ).toBe("HEADER_NOT_NEXT");
    expect(
      await code(
        verifyNextHeader(
          trusted,
          step(makeHeader(h1, vals.set, vals.set, { parentHash: new Uint8Array(32) })),
          verifier,
        ),
      ),
    ).toBe("HEADER_PARENT_MISMATCH");
    expect(
      await code(
        verifyNextHeader(
          trusted,
          step(makeHeader(h1, vals.set, vals.set, { time: h1.time })),
          verifier,
        ),
      ),
    ).toBe("HEADER_TIME_NOT_INCREASING");
    expect(
      await code(
        verifyNextHeader(
          trusted,
          step(makeHeader(h1, vals.set, vals.set, { chainId: "other-chain" })),
          verifier,
        ),
      ),
    ).toBe("HEADER_WRONG_CHAIN");
    // Too few signatures on an otherwise perfect header.
    const h = makeHeader(h1, vals.set);
    expect(
      await code(
        verifyNextHeader(
          trusted,
          { header: h, certificate: certify(h, vals, [0, 1]), validators: vals.set },
          verifier,
        ),
      ),
    ).toBe("CERT_INSUFFICIENT_POWER");
  });
});

describe("skipping verification", () => {
  const verifier = createNativeVerifier();
  // Six keys: a set of 0-3, one of 2-5 (shares half the power), one of 4-5 only.
  const all = makeValidators(6, 11);
  const pick = (idx: number[]) => {
    const keys = idx.map((i) => all.keys[i]!);
    const sorted = keys
      .map((key) => ({ key, v: { publicKey: key.publicKey, power: 10n } }))
      .sort((a, b) => Buffer.compare(Buffer.from(a.v.publicKey), Buffer.from(b.v.publicKey)));
    return { keys: sorted.map((x) => x.key), set: sorted.map((x) => x.v) };
  };
  const a = pick([0, 1, 2, 3]);
  const overlap = pick([2, 3, 4, 5]);
  const strangers = pick([4, 5]);
  const h1 = makeHeader(null, a.set);
  const trusted = { header: h1, validators: a.set };
  const far = (set: typeof a, signers: number[]) => {
    const header = makeHeader(h1, set.set, set.set, { height: 50, time: h1.time + 50_000 });
    return { header, certificate: certify(header, set, signers), validators: set.set };
  };

  it("skips to a far header signed by enough of the trusted set", async () => {
    const target = far(a, [0, 1, 2]);
    const end = await verifySkippingHeader(trusted, a.set, target, verifier);
    expect(end.header).toBe(target.header);
    // A changed set still sharing more than 1/3 of the trusted power.
    const changed = far(overlap, [0, 1, 2, 3]);
    expect((await verifySkippingHeader(trusted, a.set, changed, verifier)).header).toBe(
      changed.header,
    );
  });

  it("refuses a far header the trusted set did not sign, or that its own set did not finalize", async () => {
    expect(await code(verifySkippingHeader(trusted, a.set, far(strangers, [0, 1]), verifier))).toBe(
      "HEADER_NOT_ENOUGH_TRUST",
    );
    // Only 1/4 of the trusted power among the signers: the overlap's two new keys and one old.
    const indexOf = (i: number) =>
      overlap.set.findIndex((v) =>
        Buffer.from(v.publicKey).equals(Buffer.from(all.keys[i]!.publicKey)),
      );
    const thin = far(overlap, [indexOf(4), indexOf(5), indexOf(2)]);
    expect(await code(verifySkippingHeader(trusted, a.set, thin, verifier))).toBe(
      "HEADER_NOT_ENOUGH_TRUST",
    );
    expect(await code(verifySkippingHeader(trusted, a.set, far(a, [0, 1]), verifier))).toBe(
      "CERT_INSUFFICIENT_POWER",
    );
    expect(
      await code(verifySkippingHeader(trusted, overlap.set, far(a, [0, 1, 2]), verifier)),
    ).toBe("HEADER_NEXT_VALIDATORS_MISMATCH");
  });
});
