import { describe, expect, it } from "vitest";
import { VerificationError } from "../../errors/client.ts";
import { ApiError } from "../../errors/protocol.ts";
import { createNativeVerifier } from "../../protocol/node.ts";
import { createClient } from "../clients/createClient.ts";
import type { Transport } from "../transports/transport.ts";
import { watchHeads } from "./watchHeads.ts";

describe("watchHeads", () => {
  it("reports a head event that is not JSON as a VerificationError, and goes on", async () => {
    const transport: Transport = {
      urls: ["memory:"],
      request: async () => {
        throw new ApiError("UNAVAILABLE", "no status here");
      },
      async *events() {
        yield { event: "head", data: "{not json" };
      },
    };
    const client = createClient({
      chainId: "testnet-1",
      trust: { genesisHash: "ab".repeat(32) },
      transport,
      verifier: createNativeVerifier(),
    });
    const errors: unknown[] = [];
    const first = new Promise<void>((resolve) => {
      const stop = watchHeads(client, () => undefined, {
        pollMs: 10,
        onError: (err) => {
          errors.push(err);
          stop();
          resolve();
        },
      });
    });
    await first;
    expect(errors[0]).toBeInstanceOf(VerificationError);
    expect((errors[0] as VerificationError).code).toBe("VERIFY_INCOMPLETE");
  });
});
