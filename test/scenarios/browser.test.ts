/**
 * The client SDK in a real browser: headless Chromium loads the example page
 * (client-sdk/examples/browser), bundled for the browser (so a Node built-in
 * in the SDK fails the bundle), from 127.0.0.1, and calls a real 4-validator
 * network across origins (CORS). The page transfers, waits for finality and
 * shows the recipient's verified balance and the Ed25519 backend that
 * verified it: WebCrypto. Any uncaught error or console error on the page
 * fails the test; the first case proves those are seen.
 */
import { readFileSync } from "node:fs";
import { genesisHashOf } from "@edgeledger/node/testing";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bundleForBrowser,
  launchChromium,
  type StaticSite,
  serveStatic,
  watchForErrors,
} from "../src/browser.ts";
import { withNetwork } from "../src/network.ts";

const EXAMPLE = new URL("../../client-sdk/examples/browser/", import.meta.url);
/** Bounds every wait on the page (a transfer is final in about a second here). */
const PAGE_TIMEOUT_MS = 45_000;

let browser: Browser;
let site: StaticSite;

beforeAll(async () => {
  const [app, chromium] = await Promise.all([
    bundleForBrowser(new URL("app.ts", EXAMPLE).pathname),
    launchChromium(),
  ]);
  browser = chromium;
  site = await serveStatic({
    "/": { type: "text/html", body: readFileSync(new URL("index.html", EXAMPLE), "utf8") },
    "/app.js": { type: "text/javascript", body: app },
    "/blank": { type: "text/html", body: '<!doctype html><link rel="icon" href="data:,">' },
  });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/** Opens the example with `config` in its query string; resolves when it is done or failed. */
async function runExample(page: Page, config: Record<string, string>) {
  await page.goto(`${site.url}/?${new URLSearchParams(config)}`, { timeout: PAGE_TIMEOUT_MS });
  await page.waitForSelector("body:not([data-state=running])", { timeout: PAGE_TIMEOUT_MS });
  const text = (id: string) => page.locator(`#${id}`).textContent();
  return {
    state: await page.locator("body").getAttribute("data-state"),
    status: await text("status"),
    backend: await text("backend"),
    verified: Number(await text("verified")),
    tx: await text("tx"),
    balance: await text("balance"),
  };
}

describe("the client SDK in headless Chromium", () => {
  it("sees errors on a page: an uncaught exception and a console error", async () => {
    const page = await browser.newPage();
    const errors = watchForErrors(page);
    try {
      await page.goto(`${site.url}/blank`, { timeout: PAGE_TIMEOUT_MS });
      await page.evaluate(() => {
        console.error("planted console error");
        setTimeout(() => {
          throw new Error("planted exception");
        });
      });
      await expect.poll(() => errors.length, { timeout: 5_000 }).toBe(2);
      expect(errors).toEqual([
        "console.error: planted console error",
        "uncaught: planted exception",
      ]);
    } finally {
      await page.close();
    }
  });

  it("transfers, waits for finality and shows the verified balance, verified with WebCrypto", () =>
    withNetwork({ validators: 4 }, async (net) => {
      const config = {
        node: net.urls[0]!,
        chainId: net.chainId,
        genesisHash: genesisHashOf(net.nodes[0]!.home), // pinned from the genesis file
        key: net.funded.exportHex(), // test only: a funded key in a URL
        amount: "25",
      };
      const page = await browser.newPage();
      const errors = watchForErrors(page);
      try {
        const shown = await runExample(page, config);
        if (shown.tx) net.submitted.add(shown.tx);
        expect(shown, `the page failed: ${shown.status}\n${errors.join("\n")}`).toMatchObject({
          state: "done",
          backend: "webcrypto",
          balance: "25",
        });
        // Certificates were checked, through WebCrypto (4 validators: 3 or 4 signatures each).
        expect(shown.verified).toBeGreaterThanOrEqual(3);
        expect(errors).toEqual([]);

        // A pinned genesis that is not the chain's: nothing is trusted, and the page says so.
        const wrong = await runExample(page, { ...config, genesisHash: "00".repeat(32) });
        expect(wrong.state).toBe("failed");
        expect(wrong.status).toMatch(/^VERIFY_ANCHOR: /);
        expect(errors).toEqual([expect.stringMatching(/^console\.error: VerificationError/)]);
      } finally {
        await page.close();
      }
    }));
});
