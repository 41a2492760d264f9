import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fileTrustStore } from "./node.ts";

const dir = mkdtempSync(join(tmpdir(), "trust-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("file trust store", () => {
  it("loads nothing before the first save, then what was saved last", async () => {
    const path = join(dir, "sub", "trust.json");
    const store = fileTrustStore(path);
    expect(await store.load()).toBeNull();
    await store.save('{"v":1}');
    await store.save('{"v":2}');
    expect(await fileTrustStore(path).load()).toBe('{"v":2}');
    expect(readFileSync(path, "utf8")).toBe('{"v":2}');
  });
});
