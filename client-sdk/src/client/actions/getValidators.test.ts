import { describe, expect, it } from "vitest";
import type { CertifiedHeaderJson, GenesisJson, ValidatorsJson } from "../../api/types.ts";
import { ApiError } from "../../errors/protocol.ts";
import { type BlockHeader, blockHash, encodeBlockHeader } from "../../protocol/block.ts";
import { toHex } from "../../protocol/bytes.ts";
import { encodeFinalityCertificate } from "../../protocol/finalityCertificate.ts";
import { createNativeVerifier } from "../../protocol/node.ts";
import { CHAIN_ID, certify, makeHeader, makeValidators } from "../../protocol/testing/chain.ts";
import { encodeValidatorSet, validatorSetHash } from "../../protocol/validatorSet.ts";
import { createClient } from "../clients/createClient.ts";
import { verdictOf } from "../testing/servedChain.ts";
import type { Transport, TransportRequest } from "../transports/transport.ts";
import { verifyValidatorsAnswer } from "./getValidators.ts";

/** Ten heights signed by one set; the server answers validator sets with `answer`. */
function setup() {
  const v = makeValidators(4, 31);
  const headers: BlockHeader[] = [makeHeader(null, v.set, v.set, { height: 0 })];
  for (let h = 1; h < 10; h++) headers.push(makeHeader(headers[h - 1]!, v.set));
  const honestSet = (height: unknown): ValidatorsJson =>
    ({
      height,
      hash: toHex(validatorSetHash(v.set)),
      validatorSetBytes: toHex(encodeValidatorSet(v.set)),
      validators: [],
    }) as unknown as ValidatorsJson;
  const transport: Transport = {
    urls: ["memory:"],
    async request<T>(req: TransportRequest): Promise<T> {
      if (req.path === "/v1/genesis")
        return {
          hash: toHex(blockHash(headers[0]!)),
          headerBytes: toHex(encodeBlockHeader(headers[0]!)),
          validatorSetBytes: toHex(encodeValidatorSet(v.set)),
        } as GenesisJson as T;
      const m = /^\/v1\/headers\/(\d+)$/.exec(req.path);
      if (m) {
        const header = headers[Number(m[1])];
        if (!header) throw new ApiError("NOT_FOUND", "no such header");
        return {
          headerBytes: toHex(encodeBlockHeader(header)),
          certificateBytes: toHex(encodeFinalityCertificate(certify(header, v, [0, 1, 2]))),
        } as CertifiedHeaderJson as T;
      }
      if (req.path === "/v1/validators") return honestSet(Number(req.query?.["height"])) as T;
      throw new ApiError("NOT_FOUND", `no route ${req.path}`);
    },
    events: () => {
      throw new Error("no events here");
    },
  };
  const client = createClient({
    chainId: CHAIN_ID,
    trust: { genesisHash: toHex(blockHash(headers[0]!)) },
    transport,
    verifier: createNativeVerifier(),
  });
  return { client, honestSet };
}

describe("verifying a validator-set answer", () => {
  it("holds the next set to the freshness of any latest read, and the height to its shape", async () => {
    const { client, honestSet } = setup();
    await client.lightClient.header(9); // this client has verified height 9
    // The next block's set: the server's head is 9, so height 10 (or a block or two behind).
    expect(await verdictOf(verifyValidatorsAnswer(client, honestSet(10), {}))).toBe("ok");
    expect(await verdictOf(verifyValidatorsAnswer(client, honestSet(8), {}))).toBe("ok");
    // An old set offered as the next one: signed by the right header, but stale.
    expect(await verdictOf(verifyValidatorsAnswer(client, honestSet(3), {}))).toBe("VERIFY_STALE");
    // Not heights, whatever they coerce to.
    for (const bad of ["9", 9.5, -1, 0, null, 2 ** 53])
      expect(await verdictOf(verifyValidatorsAnswer(client, honestSet(bad), {}))).toBe(
        "VERIFY_INCOMPLETE",
      );
    expect(await verdictOf(verifyValidatorsAnswer(client, honestSet("5"), { height: 5 }))).toBe(
      "VERIFY_INCOMPLETE",
    );
    // Asked for a height: that one, not an older or newer one.
    expect(await verdictOf(verifyValidatorsAnswer(client, honestSet(5), { height: 5 }))).toBe("ok");
    expect(await verdictOf(verifyValidatorsAnswer(client, honestSet(4), { height: 5 }))).toBe(
      "VERIFY_MISMATCH",
    );
  });
});
