/**
 * The explorer's entry in the browser: reads the anchor the serving edge or
 * node wrote into the page (or the reader's pin, trust.ts), builds one SDK
 * client over the same origin's API, says on the page where its trust comes
 * from, and renders the page the URL's fragment names (route.ts) whenever
 * it changes. Wiring only; the pages are in pages.ts.
 */
import { createClient } from "@edgeledger/sdk";
import { h, link } from "./dom.ts";
import {
  accountPage,
  blockPage,
  latestPage,
  notFoundPage,
  type PageContext,
  searchPage,
  txPage,
  validatorsPage,
} from "./pages.ts";
import { Reads } from "./reads.ts";
import { hrefOf, parseRoute, searchRoute } from "./route.ts";
import { anchorHash, chooseTrust, PIN_STORAGE_KEY, readServedConfig } from "./trust.ts";

const main = document.getElementById("main")!;
const trustBox = document.getElementById("trust")!;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage refused (privacy settings): pins last for this visit only
  }
}

function start(): void {
  const served = readServedConfig(document.getElementById("explorer-config")?.textContent);
  const chosen = chooseTrust(served, location.search, storage()?.getItem(PIN_STORAGE_KEY) ?? null);
  if ("error" in chosen) {
    main.replaceChildren(
      h(
        "div",
        { class: "warning", role: "alert", "data-code": "PIN_INVALID" },
        `⚠ ${chosen.error}`,
      ),
    );
    return;
  }
  if (chosen.store === null) storage()?.removeItem(PIN_STORAGE_KEY);
  else storage()?.setItem(PIN_STORAGE_KEY, chosen.store);
  const anchor = anchorHash(chosen.anchor);
  const pinHref = `?genesis=${anchor}${location.hash}`;
  trustBox.replaceChildren(
    h(
      "div",
      {},
      h("h2", {}, "Where trust comes from"),
      h(
        "p",
        { "data-trust": chosen.source },
        `Chain “${served.chainId}”, anchored at ${"genesisHash" in chosen.anchor ? "genesis" : "checkpoint"} `,
        h("code", { "data-field": "anchor" }, anchor),
        chosen.source === "pinned"
          ? " — pinned by you (in this browser). Answers are checked against it, whatever this server says."
          : " — as the server that sent this page is configured. Pin it to keep checking against this hash: ",
        chosen.source === "served" ? link(pinHref, "pin this genesis") : null,
        chosen.source === "pinned" ? link(`?genesis=${location.hash}`, "unpin") : null,
      ),
      chosen.conflict
        ? h(
            "p",
            { class: "warning", role: "alert", "data-code": "PIN_CONFLICT" },
            `⚠ The server says its chain's anchor is ${anchorHash(served.trust)}, not your pin: its answers will fail verification unless it serves your chain.`,
          )
        : null,
      h(
        "p",
        {},
        "Every item is verified here, in your browser, by the edgeledger SDK: headers by their finality certificates from this anchor, values by their proofs. A server that lies about a block, an account or a transaction is caught and shown as a warning. The page itself comes from this server, though: a server you do not trust could send a page that does not check. Pinning the genesis protects later visits against a server swapped for one of another chain, not against the page's own code.",
      ),
    ),
  );
  const client = createClient({
    url: new URL("..", location.href).href.replace(/\/$/, ""),
    chainId: served.chainId,
    trust: chosen.anchor,
  });
  const reads = new Reads(client);
  let current = new AbortController();
  const render = () => {
    current.abort();
    current = new AbortController();
    const ctx: PageContext = {
      reads,
      main,
      signal: current.signal,
      now: Date.now,
      headStream: served.headStream === true,
    };
    const route = parseRoute(location.hash);
    const page =
      route.page === "home"
        ? latestPage(ctx)
        : route.page === "block"
          ? blockPage(ctx, route)
          : route.page === "tx"
            ? txPage(ctx, route)
            : route.page === "account"
              ? accountPage(ctx, route)
              : route.page === "validators"
                ? validatorsPage(ctx, route)
                : route.page === "search"
                  ? searchPage(ctx, route)
                  : Promise.resolve(notFoundPage(ctx, route));
    void page.finally(() => {
      if (!ctx.signal.aborted) main.dataset["ready"] = "true";
    });
    main.dataset["ready"] = "false";
    main.dataset["page"] = route.page;
  };
  window.addEventListener("hashchange", () => {
    render();
    // A new page: where a screen reader or the keyboard goes on from.
    main.focus();
  });
  document.getElementById("search")!.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("q") as HTMLInputElement;
    location.hash = hrefOf(searchRoute(input.value));
  });
  render();
}

start();
