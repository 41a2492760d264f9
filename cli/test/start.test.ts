/**
 * `edgeledger start --dev-key` on a chain that is not a dev chain: refused
 * by the CLI with the node's ConfigError (the node's own refusal is in
 * node/test/dev.test.ts).
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { writeKeyFile } from "@edgeledger/node";
import { cleanup, makeHome } from "@edgeledger/node/testing";
import { afterAll, describe, expect, it } from "vitest";

afterAll(cleanup);

describe("edgeledger start --dev-key", () => {
  it("is refused on a chain that is not a dev chain", async () => {
    const home = await makeHome("my-chain", 1000n);
    const keyFile = resolve(home.home, "funded.json");
    writeKeyFile(keyFile, home.funded);
    const cli = resolve(import.meta.dirname, "../src/main.ts");
    const run = spawnSync(
      process.execPath,
      [cli, "start", "--home", home.home, "--dev-key", keyFile],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("CONFIG_INVALID");
    expect(run.stderr).toContain('is "my-chain", not a dev chain');
  });
});
