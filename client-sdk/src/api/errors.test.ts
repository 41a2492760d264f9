import { describe, expect, it } from "vitest";
import { BaseError } from "../errors/base.ts";
import {
  AddressError,
  ApiError,
  DecodeError,
  TransactionError,
  type TransactionErrorCode,
} from "../errors/protocol.ts";
import { MAX_TX_BYTES } from "../protocol/limits.ts";
import { errorJson, type HttpError, toHttpError } from "./errors.ts";
import { parseHeight } from "./input.ts";
import { submitResultJson, submittedLocation } from "./json.ts";
import { bodyTooLarge, unsupportedMediaType } from "./requestForm.ts";
import { bodyLimitOf, DEFAULT_BODY_LIMIT, MAX_BATCH_TXS, routes } from "./routes.ts";
import { apiErrorStatus, transactionErrorStatus } from "./status.ts";

const internal = { message: "The server failed; quote the id.", details: { requestId: "r-1" } };

describe("every code's status", () => {
  it("TX_* refusals are the client's (400), a duplicate is 409, a full pool 503", () => {
    const codes = Object.keys(transactionErrorStatus) as TransactionErrorCode[];
    for (const code of codes) {
      const { status, body } = toHttpError(new TransactionError(code, `refused: ${code}`), {
        internal,
      });
      expect(status, code).toBe(transactionErrorStatus[code]);
      expect(body.code).toBe(code);
    }
    expect(transactionErrorStatus.TX_DUPLICATE).toBe(409);
    expect(transactionErrorStatus.MEMPOOL_FULL).toBe(503);
    expect(transactionErrorStatus.MEMPOOL_ACCOUNT_LIMIT).toBe(503);
    expect(transactionErrorStatus.TX_NONCE_TOO_LOW).toBe(400);
  });

  it("the API's codes take their table's status; an address error is 400", () => {
    expect(toHttpError(new ApiError("UNAVAILABLE", "later"), { internal }).status).toBe(503);
    expect(toHttpError(new ApiError("NOT_FOUND", "no"), { internal }).status).toBe(
      apiErrorStatus.NOT_FOUND,
    );
    const address = new AddressError("ADDRESS_INVALID_CHECKSUM", "bad checksum");
    expect(toHttpError(address, { internal })).toEqual({
      status: 400,
      body: { code: "ADDRESS_INVALID_CHECKSUM", message: "bad checksum", details: {} },
    });
  });
});

describe("the serializer tells a client nothing it should not hear", () => {
  const secret = "/home/op/.keys/validator.json: EACCES at 0xdeadbeef";

  it.each([
    ["a plain Error", new Error(secret)],
    ["a thrown string", secret],
    ["an INTERNAL ApiError", new ApiError("INTERNAL", secret)],
    ["a typed error no server answers with", new DecodeError("DECODE_TRUNCATED", secret)],
    ["a BaseError of an unknown class", new BaseError("SOMETHING", secret)],
  ])("%s → 500 INTERNAL with the server's fixed text only", (_name, error) => {
    const answer = toHttpError(error, { internal });
    expect(answer).toEqual({
      status: 500,
      body: { code: "INTERNAL", message: internal.message, details: { requestId: "r-1" } },
    });
    expect(JSON.stringify(answer)).not.toContain("EACCES");
  });

  it("details become JSON that renders: bigints, bytes, nothing callable, no nested messages, bounded depth", () => {
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic["self"] = cyclic;
    const error = new ApiError("REQUEST_INVALID", "bad", {
      details: {
        amount: 2n ** 128n - 1n,
        key: new Uint8Array([0xab, 0x01]),
        callback: () => secret,
        cause: new Error(secret),
        list: [1n, new Uint8Array([0xff])],
        cyclic,
      },
    });
    const { body } = toHttpError(error, { internal });
    const text = JSON.stringify(body);
    expect(text).not.toContain("EACCES");
    const details = JSON.parse(text).details;
    expect(details.amount).toBe((2n ** 128n - 1n).toString());
    expect(details.key).toBe("ab01");
    expect(details.callback).toBeUndefined();
    expect(details.cause).toBe("Error");
    expect(details.list).toEqual(["1", "ff"]);
    expect(JSON.stringify(details.cyclic)).toContain("[nested]");
  });

  it("a server's own mapping is asked first, and only for what it owns", () => {
    const mine: HttpError = {
      status: 429,
      body: { code: "MINE", message: "slow down", details: {} },
    };
    const own = (e: unknown) => (e instanceof RangeError ? mine : undefined);
    expect(toHttpError(new RangeError(secret), { internal, own })).toBe(mine);
    expect(toHttpError(new ApiError("NOT_FOUND", "no"), { internal, own }).status).toBe(404);
  });

  it("a refused transaction in a batch answer has the error shape", () => {
    const refused = new TransactionError("TX_NONCE_TOO_LOW", "nonce too low", {
      details: { nonce: 3n },
    });
    expect(submitResultJson({ error: refused })).toEqual({
      error: { code: "TX_NONCE_TOO_LOW", message: "nonce too low", details: { nonce: "3" } },
    });
    expect(submitResultJson({ error: refused })).toEqual({ error: errorJson(refused) });
    const hash = new Uint8Array(32).fill(0xcd);
    expect(submitResultJson({ hash })).toEqual({ hash: "cd".repeat(32), status: "pending" });
    expect(submittedLocation(hash)).toBe(`/v1/transactions/${"cd".repeat(32)}`);
  });
});

describe("request limits and inputs", () => {
  it("the batch route takes a full batch of the largest transactions; the others the default", () => {
    const fullBatch = JSON.stringify({ txs: Array(MAX_BATCH_TXS).fill("ab".repeat(MAX_TX_BYTES)) });
    expect(fullBatch.length).toBeLessThanOrEqual(bodyLimitOf(routes.submitTransactions));
    expect(bodyLimitOf(routes.submitTransaction)).toBe(DEFAULT_BODY_LIMIT);
    expect(JSON.stringify({ tx: "ab".repeat(MAX_TX_BYTES) }).length).toBeLessThan(
      DEFAULT_BODY_LIMIT,
    );
    expect(bodyLimitOf(routes.devTransfer)).toBe(DEFAULT_BODY_LIMIT);
  });

  it("413 and 415 answers in the error shape", () => {
    expect(bodyTooLarge()).toMatchObject({ status: 413, body: { code: "BODY_TOO_LARGE" } });
    expect(unsupportedMediaType()).toMatchObject({
      status: 415,
      body: { code: "REQUEST_INVALID", details: { in: "headers", field: "content-type" } },
    });
  });

  it("a height reads as one number, and one a number cannot hold exactly is refused", () => {
    expect(parseHeight("0", "params")).toBe(0);
    expect(parseHeight(String(Number.MAX_SAFE_INTEGER), "querystring")).toBe(
      Number.MAX_SAFE_INTEGER,
    );
    // 2^53 and 2^53 + 1 are the same JSON number: serving either would answer another height.
    for (const text of ["9007199254740992", "9007199254740993", "9999999999999999"]) {
      expect(() => parseHeight(text, "params", "id")).toThrow(
        expect.objectContaining({
          code: "REQUEST_INVALID",
          details: { in: "params", field: "id", problem: "out of range" },
        }),
      );
    }
  });
});
