/**
 * The explorer's files at /explorer, with the edge's own chain id and
 * anchor written into the page, and nothing else asked of the upstreams.
 */
import { describe, expect, it } from "vitest";
import { createEdgeApp } from "../app.ts";

const GENESIS = "cd".repeat(32);
const asked: string[] = [];
const base = {
  upstreams: ["http://up0"],
  chainId: "explorer-test",
  trust: { genesisHash: GENESIS },
  fetch: (async (input: RequestInfo | URL) => {
    asked.push(String(input));
    return new Response("{}", { status: 503 });
  }) as typeof fetch,
};

describe("the explorer at /explorer", () => {
  it("serves the page with this edge's anchor, its script and style; redirects the bare path", async () => {
    const app = createEdgeApp(base);
    const bare = await app.request("/explorer");
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe("/explorer/");

    const page = await app.request("/explorer/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'");
    const html = await page.text();
    const config = /<script id="explorer-config" type="application\/json">(.*?)<\/script>/.exec(
      html,
    );
    expect(JSON.parse(config![1]!)).toEqual({
      chainId: "explorer-test",
      trust: { genesisHash: GENESIS },
      headStream: true,
    });

    const script = await app.request("/explorer/app.js");
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect((await script.text()).length).toBeGreaterThan(1000);
    expect((await app.request("/explorer/style.css")).status).toBe(200);
    expect((await app.request("/explorer/nothing.js")).status).toBe(404);
    expect(asked).toEqual([]);
  });

  it("is not served when switched off", async () => {
    const app = createEdgeApp({ ...base, explorer: false });
    expect((await app.request("/explorer/")).status).toBe(404);
  });
});
