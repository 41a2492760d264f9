/**
 * The explorer (explorer/) in a real headless Chromium against a live
 * 4-validator network, served by an edge in front of every validator (and by
 * node 0, behind its `explorer` flag). Each page shows verified data: its
 * badge names what was checked, and its values are the SDK's own verified
 * reads (a Node client pinned at the genesis file). A tampering proxy in
 * front of the edge makes each page show the warning instead of the values;
 * a pinned genesis of another chain makes it refuse everything. At 375 px no
 * page scrolls sideways. Screenshots (phone and desktop) go to docs/img when
 * EDGELEDGER_SCREENSHOTS=1, to a temporary folder otherwise.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EdgeServer, startEdgeServer } from "@edgeledger/edge/node";
import { cleanup, genesisHashOf } from "@edgeledger/node/testing";
import {
  addressFromPublicKey,
  type Client,
  createClient,
  formatAddress,
  SecretKey,
} from "@edgeledger/sdk";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, watchForErrors } from "../src/browser.ts";
import { startWorkerdEdge } from "../src/edgeWorkerd.ts";
import { TestNetwork } from "../src/network.ts";
import { FaultPlan, type UpstreamProxy, upstreamProxy } from "../src/proxy.ts";

/** Bounds every wait on a page (a block is final in about a second here). */
const PAGE_TIMEOUT_MS = 45_000;
const SCREENSHOTS = process.env["EDGELEDGER_SCREENSHOTS"]
  ? new URL("../../docs/img/", import.meta.url).pathname
  : mkdtempSync(join(tmpdir(), "explorer-shots-"));
/** "header 12 signed by 3 of 4 validators (power 3 of 4, 75.0%), round 0": the badge's certificate part. */
const SIGNED =
  /header (\d+) signed by [34] of 4 validators \(power \d+ of \d+, \d+\.\d%\), round \d+$/;

let net: TestNetwork;
let edge: EdgeServer;
let faults: FaultPlan;
let tampering: UpstreamProxy;
let browser: Browser;
let sdk: Client;
let genesisHash: string;
let recipient: string;
let txHash: string;

beforeAll(async () => {
  [net, browser] = await Promise.all([
    TestNetwork.start({ validators: 4, config: { 0: { explorer: true } } }),
    launchChromium(),
  ]);
  genesisHash = genesisHashOf(net.nodes[0]!.home); // pinned from the genesis file
  edge = await startEdgeServer({
    upstreams: net.urls,
    chainId: net.chainId,
    trust: { genesisHash },
    port: 0,
  });
  faults = new FaultPlan();
  tampering = await upstreamProxy(edge.url, faults);
  sdk = createClient({ urls: net.urls, chainId: net.chainId, trust: { genesisHash } });
  const to = addressFromPublicKey(SecretKey.generate().publicKey);
  recipient = formatAddress(to);
  const sent = await net.submitTransfer(0, 25n, to);
  txHash = sent.body["hash"] as string;
  await net.waitCommitted([txHash], 0);
  // Blocks come with transactions here: a few more, so the latest-blocks page has rows.
  for (let i = 0; i < 3; i++) await net.waitCommitted([await net.transfer(0, 1n)], 0);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await tampering?.close();
  await edge?.close();
  try {
    await net?.check();
  } finally {
    await net?.stop();
    await cleanup();
  }
});

/** The transfer made in beforeAll, as the SDK verified it. */
async function committedTx() {
  const tx = await sdk.getTransaction({ hash: txHash });
  if (tx?.status !== "committed") throw new Error(`${txHash} is not committed`);
  return tx;
}

interface Opened {
  readonly page: Page;
  readonly errors: string[];
}

/** Opens `fragment` of the explorer served at `base`, and waits until the page has done its reads. */
async function open(
  base: string,
  fragment: string,
  options: { query?: string; width?: number; height?: number } = {},
): Promise<Opened> {
  const page = await browser.newPage({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
  });
  const errors = watchForErrors(page);
  // Which request failed, next to the console's "Failed to load resource".
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  await page.goto(`${base}/explorer/${options.query ?? ""}#${fragment}`, {
    timeout: PAGE_TIMEOUT_MS,
  });
  await ready(page);
  return { page, errors };
}

/**
 * Waits until the page has rendered (and, given `name`, that it is that
 * page: right after a search moves the URL on, the search page is still the
 * one marked ready until the hashchange renders the next).
 */
async function ready(page: Page, name?: string): Promise<void> {
  const which = name === undefined ? "" : `[data-page=${name}]`;
  await page.waitForSelector(`main[data-ready=true]${which}`, { timeout: PAGE_TIMEOUT_MS });
}

const text = async (page: Page, selector: string) =>
  ((await page.locator(selector).first().textContent()) ?? "").trim();

/** The item's badge, after checking the item is shown as verified. */
async function verifiedBadge(page: Page, kind: string): Promise<string> {
  const item = page.locator(`section[data-kind=${kind}]`);
  expect(await item.getAttribute("data-verified"), (await item.textContent()) ?? "").toBe("true");
  return text(page, `section[data-kind=${kind}] [data-badge=verified]`);
}

describe("the explorer in headless Chromium, against a live network", () => {
  it("shows the latest blocks verified, and new ones arriving by the edge's head stream", async () => {
    const { page, errors } = await open(edge.url, "/");
    try {
      const rows = page.locator("ol.blocks li[data-verified=true]");
      await expect.poll(() => rows.count(), { timeout: PAGE_TIMEOUT_MS }).toBeGreaterThanOrEqual(3);
      const heights = (
        await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-height"))))
      ).slice(0, 3);
      for (const height of heights) {
        const row = page.locator(`ol.blocks li[data-height="${height}"]`);
        const verified = await sdk.getBlock({ height });
        expect(await row.locator("code").getAttribute("title")).toBe(verified.hash);
        expect(await row.locator("[data-badge=verified]").textContent()).toMatch(
          new RegExp(
            `^✔ Verified: ${verified.block.txs.length} transactions? and evidence hash to header ${height}'s roots; ${SIGNED.source}`,
          ),
        );
      }
      // A block that was not there when the page loaded arrives, verified.
      const newest = Math.max(...heights);
      await net.transfer(1, 1n);
      await expect
        .poll(
          async () =>
            Math.max(
              ...(await rows.evaluateAll((els) =>
                els.map((e) => Number(e.getAttribute("data-height"))),
              )),
            ),
          {
            timeout: PAGE_TIMEOUT_MS,
          },
        )
        .toBeGreaterThan(newest);
      expect(await page.locator("[data-stream]").getAttribute("data-stream")).toBe("live");
      // The new head came by the edge's GET /v1/heads, verified again in the page.
      expect(await page.locator("[data-stream]").getAttribute("data-via")).toBe("stream");
      expect(await text(page, "[data-stream]")).toMatch(/^Head stream: live · verified head \d+/);
      // The anchor shown is the genesis the edge is configured with, and says it is the server's.
      expect(await text(page, "[data-field=anchor]")).toBe(genesisHash);
      expect(await page.locator("[data-trust]").getAttribute("data-trust")).toBe("served");
      expect(await page.locator("[role=alert]").count()).toBe(0);
      await page.screenshot({ path: join(SCREENSHOTS, "explorer-desktop.png") });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it("shows a transaction with its receipt, its block, an account and the validators, each verified", async () => {
    const tx = await committedTx();
    const { page, errors } = await open(edge.url, `/tx/${txHash}`);
    try {
      expect(await verifiedBadge(page, "tx")).toMatch(
        new RegExp(
          `^✔ Verified: Merkle proof, depth \\d+ \\(leaf ${tx.index + 1} of \\d+\\), against header ${tx.height}; ${SIGNED.source}`,
        ),
      );
      expect(await text(page, "[data-field=height]")).toBe(String(tx.height));
      expect(await text(page, "[data-field=index]")).toBe(String(tx.index));
      expect(await text(page, "[data-field=amount]")).toBe("25");
      expect(await text(page, "[data-field=to]")).toBe(recipient);
      expect(await text(page, "[data-field=receipt]")).toMatch(/^success/);

      await page.goto(`${edge.url}/explorer/#/block/${tx.height}`);
      await ready(page);
      const block = await sdk.getBlock({ height: tx.height });
      expect(await verifiedBadge(page, "block")).toMatch(
        new RegExp(`hash to header ${tx.height}'s roots; ${SIGNED.source}`),
      );
      expect(await text(page, "[data-field=hash]")).toBe(block.hash);
      expect(await text(page, "[data-field=txCount]")).toBe(String(block.block.txs.length));
      expect(await page.locator(`li[data-tx="${txHash}"]`).count()).toBe(1);

      await page.goto(`${edge.url}/explorer/#/account/${recipient}`);
      await ready(page);
      const account = await sdk.getAccount({ address: recipient });
      expect(await verifiedBadge(page, "account")).toMatch(
        new RegExp(
          `^✔ Verified: state proof of presence, depth \\d+, against header \\d+; ${SIGNED.source}`,
        ),
      );
      expect(await text(page, "[data-field=balance]")).toBe(account.balance.toString());
      expect(await text(page, "[data-field=nonce]")).toBe(String(account.nonce));

      await page.goto(`${edge.url}/explorer/#/validators`);
      await ready(page);
      const { validators } = await sdk.getValidators();
      expect(await verifiedBadge(page, "validators")).toMatch(
        /^✔ Verified: set hash is header \d+'s (next)?[vV]alidatorsHash; /,
      );
      const powers = await page.locator("tr[data-validator] [data-field=power]").allTextContents();
      expect(powers).toEqual(validators.map((v) => v.power.toString()));
      expect(await text(page, "section[data-kind=changes] [data-field=changes]")).toMatch(
        /^No change/,
      );

      // Search: a transaction hash, a height, an address; by keyboard (Enter submits).
      const search = page.getByLabel("Search by height, hash or address");
      for (const [query, fragment, name] of [
        [txHash, `#/tx/${txHash}`, "tx"],
        [String(tx.height), `#/block/${tx.height}`, "block"],
        [recipient, `#/account/${recipient}`, "account"],
      ] as const) {
        await search.fill(query);
        await search.press("Enter");
        await page.waitForURL((url) => url.hash === fragment, { timeout: PAGE_TIMEOUT_MS });
        await ready(page, name);
        expect(await page.locator("section[data-verified=true]").count()).toBeGreaterThanOrEqual(1);
      }
      expect(await page.locator("[role=alert]").count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it("shows a warning, never the values, when the server in front of it tampers with an answer", async () => {
    const tx = await committedTx();
    const cases = [
      {
        fragment: `/account/${recipient}`,
        kind: "account",
        path: `/v1/accounts/${recipient}`,
        fault: "tamper-proof",
        field: "balance",
      },
      {
        fragment: `/tx/${txHash}`,
        kind: "tx",
        path: `/v1/transactions/${txHash}`,
        fault: "tamper-proof",
        field: "amount",
      },
      {
        fragment: `/block/${tx.height}`,
        kind: "block",
        path: `/v1/blocks/${tx.height}`,
        fault: "tamper-block",
        field: "hash",
      },
    ] as const;
    for (const c of cases) {
      faults.clear();
      faults.add({ match: (p) => p.startsWith(c.path), kind: c.fault, budget: 1000 });
      const { page } = await open(tampering.url, c.fragment);
      try {
        const item = page.locator(`section[data-kind=${c.kind}]`);
        expect(await item.getAttribute("data-verified"), `${c.fault} on ${c.path}`).toBe("false");
        const alert = item.locator("[role=alert]");
        expect(await alert.getAttribute("data-code")).toMatch(/^VERIFY_/);
        expect(await alert.textContent()).toMatch(
          /⚠ NOT VERIFIED — VERIFY_[A-Z_]+: .*not shown\.$/,
        );
        expect(await page.locator(`[data-field=${c.field}]`).count()).toBe(0);
        if (c.kind === "account")
          await page.screenshot({ path: join(SCREENSHOTS, "explorer-warning.png") });
      } finally {
        await page.close();
      }
    }
    // A readable field changed, the bytes left alone: the page shows only what
    // it decoded from the verified bytes, so the lie is not on it.
    faults.clear();
    faults.add({
      match: (p) => p === `/v1/blocks/${tx.height}`,
      kind: "tamper-readable",
      budget: 1000,
    });
    const readable = await open(tampering.url, `/block/${tx.height}`);
    try {
      expect(await verifiedBadge(readable.page, "block")).toMatch(/^✔ Verified: /);
      expect(await readable.page.locator("ol.txs").textContent()).not.toContain("999,999");
    } finally {
      await readable.page.close();
    }
    faults.clear();
    // The same pages through the same proxy, untouched: verified again.
    const { page } = await open(tampering.url, `/account/${recipient}`);
    try {
      expect(await verifiedBadge(page, "account")).toMatch(/^✔ Verified: state proof/);
    } finally {
      await page.close();
    }
  });

  it("checks against a pinned genesis, whatever the server says, and refuses another chain's", async () => {
    const wrong = "00".repeat(32);
    const { page } = await open(edge.url, `/account/${recipient}`, { query: `?genesis=${wrong}` });
    try {
      expect(await page.locator("[data-trust]").getAttribute("data-trust")).toBe("pinned");
      expect(await page.locator("[data-code=PIN_CONFLICT]").count()).toBe(1);
      expect(
        await page.locator("section[data-kind=account] [role=alert]").getAttribute("data-code"),
      ).toBe("VERIFY_ANCHOR");
      // The pin is remembered, until unpinned with an empty one.
      await page.goto(`${edge.url}/explorer/#/account/${recipient}`);
      await ready(page);
      expect(await page.locator("[data-trust]").getAttribute("data-trust")).toBe("pinned");
      await page.goto(`${edge.url}/explorer/?genesis=${genesisHash}#/account/${recipient}`);
      await ready(page);
      expect(await page.locator("[data-code=PIN_CONFLICT]").count()).toBe(0);
      expect(await verifiedBadge(page, "account")).toMatch(/^✔ Verified: state proof/);
      await page.goto(`${edge.url}/explorer/?genesis=#/`);
      await ready(page);
      expect(await page.locator("[data-trust]").getAttribute("data-trust")).toBe("served");
      // What nobody can prove is the server's word, marked so: a transaction never seen.
      await page.goto(`${edge.url}/explorer/#/tx/${"ab".repeat(32)}`);
      await ready(page);
      expect(await page.locator("section[data-kind=tx]").getAttribute("data-verified")).toBe(
        "unproven",
      );
      expect(await text(page, "[data-badge=unverified]")).toMatch(
        /^◌ Unverified: the server says it has never seen/,
      );
    } finally {
      await page.close();
    }
  });

  it("falls back to polling when the edge refuses its head stream, and still shows new blocks", async () => {
    // An edge that serves the stream but has no room for a subscriber: 503 EDGE_STREAMS_FULL.
    const full = await startEdgeServer({
      upstreams: net.urls,
      chainId: net.chainId,
      trust: { genesisHash },
      port: 0,
      headStream: { maxSubscribers: 0 },
    });
    try {
      const { page, errors } = await open(full.url, "/");
      try {
        const rows = page.locator("ol.blocks li[data-verified=true]");
        await expect
          .poll(() => rows.count(), { timeout: PAGE_TIMEOUT_MS })
          .toBeGreaterThanOrEqual(1);
        await net.transfer(2, 1n);
        await expect
          .poll(() => text(page, "[data-stream]"), { timeout: PAGE_TIMEOUT_MS })
          .toMatch(
            /^Heads: polled every second \(the head stream is unavailable now\) · verified head \d+/,
          );
        expect(await page.locator("[data-stream]").getAttribute("data-via")).toBe("poll");
        expect(full.app.edge.metrics.get("head_streams_refused_total")).toBeGreaterThan(0);
        // The refused stream is the only thing that failed to load.
        expect(errors.filter((e) => !/503|\/v1\/heads/.test(e))).toEqual([]);
      } finally {
        await page.close();
      }
    } finally {
      await full.close();
    }
  });

  it("is served by a node behind its flag, and not by one without it", async () => {
    const { page, errors } = await open(net.urls[0]!, "/");
    try {
      const rows = page.locator("ol.blocks li[data-verified=true]");
      await expect.poll(() => rows.count(), { timeout: PAGE_TIMEOUT_MS }).toBeGreaterThanOrEqual(1);
      expect(await text(page, "[data-field=anchor]")).toBe(genesisHash);
      // A node streams heads: the next block comes by the stream.
      await net.transfer(0, 1n);
      await expect
        .poll(() => text(page, "[data-stream]"), { timeout: PAGE_TIMEOUT_MS })
        .toMatch(/^Head stream: live · verified head \d+/);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
    expect((await fetch(`${net.urls[1]}/explorer/`)).status).toBe(404);
  });

  it("is served by the edge's Workers entry in workerd too, from its bundle", async () => {
    const workerd = await startWorkerdEdge({
      upstreams: net.urls,
      chainId: net.chainId,
      genesisHash,
      headPollMs: 200,
      rateLimit: { ratePerSecond: 50, burst: 100 },
    });
    try {
      const { page, errors } = await open(workerd.url, `/account/${recipient}`);
      try {
        expect(await verifiedBadge(page, "account")).toMatch(/^✔ Verified: state proof/);
        expect(await text(page, "[data-field=anchor]")).toBe(genesisHash);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    } finally {
      await workerd.close();
    }
  });

  it("fits a 375 px phone on every page, without scrolling sideways", async () => {
    const { height } = await committedTx();
    for (const fragment of [
      "/",
      `/block/${height}`,
      `/tx/${txHash}`,
      `/account/${recipient}`,
      "/validators",
    ]) {
      const { page, errors } = await open(edge.url, fragment, { width: 375, height: 812 });
      try {
        const overflow = await page.evaluate(
          () => document.documentElement.scrollWidth - window.innerWidth,
        );
        expect(overflow, fragment).toBeLessThanOrEqual(0);
        if (fragment === "/") {
          await expect
            .poll(() => page.locator("ol.blocks li[data-verified=true]").count(), {
              timeout: PAGE_TIMEOUT_MS,
            })
            .toBeGreaterThanOrEqual(3);
          await page.screenshot({ path: join(SCREENSHOTS, "explorer-phone.png") });
        }
        if (fragment.startsWith("/tx/"))
          await page.screenshot({
            path: join(SCREENSHOTS, "explorer-phone-tx.png"),
            fullPage: true,
          });
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    }
  });
});
