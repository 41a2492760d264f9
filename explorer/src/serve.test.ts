import { describe, expect, it } from "vitest";
import { explorerAnswer } from "./serve.ts";

const config = {
  chainId: "c</script><script>",
  trust: { genesisHash: "aa".repeat(32) },
  headStream: false,
};

describe("serving the explorer", () => {
  it("writes the config into the page where no value can close the script element", () => {
    const page = explorerAnswer("/explorer/", config)!;
    expect(page.status).toBe(200);
    expect(page.body).not.toContain("c</script>");
    const json = /<script id="explorer-config" type="application\/json">(.*?)<\/script>/.exec(
      page.body,
    )![1]!;
    expect(JSON.parse(json)).toEqual(config);
    expect(explorerAnswer("/explorer/index.html", config)!.body).toBe(page.body);
  });

  it("answers only its own paths", () => {
    expect(explorerAnswer("/explorer", config)).toMatchObject({
      status: 308,
      headers: { location: "/explorer/" },
    });
    expect(explorerAnswer("/explorer/app.js", config)!.headers["content-type"]).toMatch(
      /javascript/,
    );
    for (const other of [
      "/",
      "/explorerx",
      "/explorer/constructor",
      "/explorer/../v1/status",
      "/v1/status",
    ])
      expect(explorerAnswer(other, config), other).toBeNull();
  });
});
