/**
 * The signer protocol's messages, in the SDK's canonical codec: one request
 * and one reply per stream, each a u32-length-prefixed frame (sync/frames.ts)
 * whose length is checked against its bound before the bytes behind it are
 * read. A request names the chain and carries the vote or proposal itself
 * (never a digest): the signer decodes it strictly and signs the digest it
 * computes, so it can be made to sign only a well-formed vote or proposal of
 * its chain.
 */
import {
  asciiString,
  CHAIN_ID_PATTERN,
  decode,
  encode,
  fixedBytes,
  MAX_CHAIN_ID_LENGTH,
  optional,
  type Proposal,
  proposalCodec,
  struct,
  taggedUnion,
  u32,
  type Vote,
  voteCodec,
} from "@edgeledger/sdk/protocol";
import {
  REMOTE_SIGNER_ERROR_CODES,
  RemoteSignerError,
  type RemoteSignerErrorCode,
} from "./errors.ts";

/** libp2p protocol id of the signer's one request/reply exchange. */
export const SIGNER_PROTOCOL = "/edgeledger/signer/2";

/** A proposal request is 1 + 1 + 64 + ~120 bytes; twice that leaves room and refuses anything else. */
export const MAX_REQUEST_BYTES = 512;
export const MAX_REPLY_BYTES = 1024;

const chainIdCodec = asciiString("chainId", CHAIN_ID_PATTERN, MAX_CHAIN_ID_LENGTH);

export type SignerRequest =
  /** Which validator key the signer holds, for which chain (asked on each connect). */
  | { readonly kind: "identity"; readonly chainId: string }
  /**
   * `polRound`: the justification of a prevote for a block against a lock
   * (SigningGuard.signVote); the signer's journal checks it.
   */
  | {
      readonly kind: "vote";
      readonly chainId: string;
      readonly vote: Vote;
      readonly polRound: number | null;
    }
  | { readonly kind: "proposal"; readonly chainId: string; readonly proposal: Proposal };

export type SignerReply =
  | { readonly kind: "identity"; readonly chainId: string; readonly validator: Uint8Array }
  | { readonly kind: "signature"; readonly signature: Uint8Array }
  | { readonly kind: "error"; readonly code: RemoteSignerErrorCode; readonly message: string };

const requestCodec = taggedUnion("SignerRequest", {
  identity: { tag: 1, codec: struct<{ chainId: string }>("Identity", { chainId: chainIdCodec }) },
  vote: {
    tag: 2,
    codec: struct<{ chainId: string; vote: Vote; polRound: number | null }>("SignVote", {
      chainId: chainIdCodec,
      vote: voteCodec,
      polRound: optional(u32("polRound")),
    }),
  },
  proposal: {
    tag: 3,
    codec: struct<{ chainId: string; proposal: Proposal }>("SignProposal", {
      chainId: chainIdCodec,
      proposal: proposalCodec,
    }),
  },
});

const codeCodec = asciiString("code", /^REMOTE_SIGNER_[A-Z_]+$/, 64);
const replyCodec = taggedUnion("SignerReply", {
  identity: {
    tag: 1,
    codec: struct<{ chainId: string; validator: Uint8Array }>("IdentityReply", {
      chainId: chainIdCodec,
      validator: fixedBytes("validator", 32),
    }),
  },
  signature: {
    tag: 2,
    codec: struct<{ signature: Uint8Array }>("Signature", {
      signature: fixedBytes("signature", 64),
    }),
  },
  error: {
    tag: 3,
    codec: struct<{ code: string; message: string }>("ErrorReply", {
      code: codeCodec,
      message: asciiString("message", /^[\x20-\x7e]*$/, 400),
    }),
  },
});

export function encodeRequest(request: SignerRequest): Uint8Array {
  return encode(requestCodec, request);
}

/** REMOTE_SIGNER_MALFORMED unless `bytes` is exactly one canonical request. */
export function decodeRequest(bytes: Uint8Array): SignerRequest {
  try {
    return decode(requestCodec, bytes, { maxBytes: MAX_REQUEST_BYTES }) as SignerRequest;
  } catch (err) {
    throw RemoteSignerError.malformed("The request", { cause: err });
  }
}

export function encodeReply(reply: SignerReply): Uint8Array {
  return encode(replyCodec, reply);
}

export function decodeReply(bytes: Uint8Array): SignerReply {
  let reply: SignerReply;
  try {
    reply = decode(replyCodec, bytes, { maxBytes: MAX_REPLY_BYTES }) as SignerReply;
  } catch (err) {
    throw RemoteSignerError.malformed("The signer's reply", { cause: err });
  }
  if (reply.kind === "error" && !REMOTE_SIGNER_ERROR_CODES.includes(reply.code))
    throw RemoteSignerError.malformed(`The signer's error code ${reply.code}`);
  return reply;
}

/** The reply that carries `err` (a RemoteSignerError's code; anything else is MALFORMED). */
export function errorReply(err: unknown): SignerReply {
  const e =
    err instanceof RemoteSignerError
      ? err
      : RemoteSignerError.malformed("The request", { cause: err });
  return { kind: "error", code: e.code, message: e.shortMessage.replace(/[^\x20-\x7e]/g, "?") };
}
