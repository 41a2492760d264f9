/**
 * The pages, each a function that fills `main` with what it verified: the
 * latest blocks (live from the head stream), a block, a transaction and its
 * receipt, an account, the validator set and its changes, and the search
 * for a hash. Every value shown comes out of a Reads call that verified it;
 * an answer that fails shows a warning in its place (dom.ts `warning`),
 * never its values. `signal` aborts a page when the reader leaves it.
 */
import {
  addressFromPublicKey,
  type Block,
  type BlockHeader,
  formatAddress,
  type HeadSource,
  type SignedTransaction,
  toHex,
  transactionHash,
  watchHeads,
} from "@edgeledger/sdk";
import { badge, fields, h, link, unverifiedBadge, warning } from "./dom.ts";
import { formatAge, formatAmount, formatShare, formatTime, shortHex } from "./format.ts";
import type { Reads } from "./reads.ts";
import { hrefOf, type Route } from "./route.ts";
import { changeText, setChanges } from "./validatorChanges.ts";

/** How many blocks the latest-blocks page keeps. */
const LATEST = 10;
/** How often heads are polled where there is no stream (ms). */
const POLL_MS = 1000;

export interface PageContext {
  readonly reads: Reads;
  readonly main: HTMLElement;
  readonly signal: AbortSignal;
  readonly now: () => number;
  /** The server streams heads (GET /v1/heads: a node, an edge); else they are polled. */
  readonly headStream: boolean;
}

const addressOf = (publicKey: Uint8Array) => formatAddress(addressFromPublicKey(publicKey));
const accountLink = (address: string) => link(hrefOf({ page: "account", address }), address);

function title(ctx: PageContext, text: string): void {
  document.title = `${text} · edgeledger explorer`;
  ctx.main.replaceChildren(h("h1", {}, text));
}

function section(kind: string, label: string): HTMLElement {
  return h("section", { class: "item", "data-kind": kind, "aria-label": label });
}

/** A page of one item: its title, and the section the item goes in. */
function itemPage(ctx: PageContext, heading: string, kind: string, label: string): HTMLElement {
  title(ctx, heading);
  const item = section(kind, label);
  ctx.main.append(item);
  return item;
}

/** Runs `read` and shows its result in `into`, or the warning in its place. */
async function show<T>(
  ctx: PageContext,
  into: HTMLElement,
  what: string,
  read: () => Promise<T>,
  render: (value: T) => readonly Node[],
): Promise<T | null> {
  into.replaceChildren(h("p", { class: "loading" }, `Verifying ${what}…`));
  try {
    const value = await read();
    if (ctx.signal.aborted) return null;
    into.replaceChildren(...render(value));
    // Verified only where a verified badge is: what nobody can prove (a
    // pending transaction, "never seen") is shown as the server's word.
    into.dataset["verified"] = into.querySelector("[data-badge=verified]") ? "true" : "unproven";
    return value;
  } catch (err) {
    if (ctx.signal.aborted) return null;
    into.dataset["verified"] = "false";
    into.replaceChildren(warning(err, `${what}:`));
    return null;
  }
}

function blockRow(
  ctx: PageContext,
  block: Block,
  hash: string,
  checked: Parameters<typeof badge>[0],
) {
  const { header } = block;
  return [
    h(
      "p",
      { class: "row" },
      h("strong", {}, link(hrefOf({ page: "block", height: header.height }), `#${header.height}`)),
      " ",
      h("code", { title: hash }, shortHex(hash)),
      ` · ${header.txCount} tx · `,
      h(
        "time",
        { datetime: new Date(header.time).toISOString() },
        formatAge(header.time, ctx.now()),
      ),
    ),
    badge(checked),
  ];
}

/** The latest blocks, newest first, each verified; new ones arrive from the head stream. */
export async function latestPage(ctx: PageContext): Promise<void> {
  title(ctx, "Latest blocks");
  const status = h(
    "p",
    { class: "stream", role: "status", "data-stream": "connecting" },
    "Head stream: connecting…",
  );
  const list = h("ol", { class: "blocks", reversed: "" });
  ctx.main.append(status, list);
  const shown = new Map<number, HTMLElement>();
  const add = async (height: number) => {
    if (shown.has(height) || height < 1) return;
    const li = h("li", { "data-height": String(height) });
    shown.set(height, li);
    const next = [...shown.entries()].filter(([k]) => k > height).sort(([a], [b]) => a - b)[0];
    if (next) next[1].after(li);
    else list.prepend(li);
    await show(
      ctx,
      li,
      `block ${height}`,
      () => ctx.reads.block({ height }),
      (v) => blockRow(ctx, v.value.block, v.value.hash, v.checked),
    );
    for (const old of [...shown.keys()].sort((a, b) => b - a).slice(LATEST)) {
      shown.get(old)?.remove();
      shown.delete(old);
    }
  };
  const first = h("li", {});
  list.append(first);
  const latest = await show(
    ctx,
    first,
    "the latest block",
    () => ctx.reads.block("latest"),
    (v) => blockRow(ctx, v.value.block, v.value.hash, v.checked),
  );
  if (ctx.signal.aborted) return;
  let head = 0;
  if (latest) {
    head = latest.value.block.header.height;
    first.dataset["height"] = String(head);
    shown.set(head, first);
  }
  for (let height = head - 1; height > head - LATEST && height > 0 && !ctx.signal.aborted; height--)
    await add(height);
  const onHead = (header: BlockHeader, via: HeadSource = "poll") => {
    status.dataset["stream"] = "live";
    status.dataset["via"] = via;
    const how =
      via === "stream"
        ? "Head stream: live"
        : ctx.headStream
          ? "Heads: polled every second (the head stream is unavailable now)"
          : "Heads: polled every second (this server has no head stream)";
    status.textContent = `${how} · verified head ${header.height} (${formatTime(header.time)})`;
    // Heights may be skipped between two looks: fill them in.
    for (
      let height = Math.max(header.height - LATEST + 1, head + 1);
      height <= header.height;
      height++
    )
      void add(height);
    head = Math.max(head, header.height);
  };
  const onError = (err: unknown) => {
    status.dataset["stream"] = "error";
    status.replaceChildren(warning(err, "Heads:"));
  };
  // The stream when the server has one (a node, an edge); watchHeads polls
  // /v1/status itself while the stream fails (refused, cut, a Worker that
  // ends it), then tries it again. Every head is verified either way.
  if (ctx.headStream) watchHeads(ctx.reads.client, onHead, { signal: ctx.signal, onError });
  else void pollHeads(ctx, () => head, onHead, onError);
}

/**
 * Heads where the server has no stream (the edge): its status names a
 * height, only a hint; the header at that height is verified before it is
 * delivered, like a streamed one.
 */
async function pollHeads(
  ctx: PageContext,
  last: () => number,
  onHead: (header: BlockHeader) => void,
  onError: (err: unknown) => void,
): Promise<void> {
  const client = ctx.reads.client;
  while (!ctx.signal.aborted) {
    try {
      const { height } = await client.getStatus();
      if (height > last() && !ctx.signal.aborted) onHead(await client.lightClient.header(height));
    } catch (err) {
      if (!ctx.signal.aborted) onError(err);
    }
    await new Promise<void>((done) => {
      const timer = setTimeout(done, POLL_MS);
      const abort = () => {
        clearTimeout(timer);
        done();
      };
      ctx.signal.addEventListener("abort", abort, { once: true });
    });
  }
}

function txRows(stx: SignedTransaction): (readonly [string, Node | string, string?])[] {
  const { tx } = stx;
  const body =
    tx.body.kind === "transfer"
      ? ([
          ["To", accountLink(formatAddress(tx.body.to)), "to"],
          ["Amount", formatAmount(tx.body.amount), "amount"],
        ] as const)
      : ([
          ["Validator", h("code", {}, toHex(tx.body.validator))],
          ["Voted power", String(tx.body.power), "power"],
        ] as const);
  return [
    ["Kind", tx.body.kind, "kind"],
    ["From", accountLink(addressOf(tx.from)), "from"],
    ...body,
    ["Nonce", String(tx.nonce), "nonce"],
    ["Expires", formatTime(tx.expiresAt)],
  ];
}

/** A block: its header, its transactions and evidence, verified against its certificate. */
export async function blockPage(
  ctx: PageContext,
  route: Extract<Route, { page: "block" }>,
): Promise<void> {
  const name = "height" in route ? `Block ${route.height}` : `Block ${shortHex(route.hash)}`;
  const item = itemPage(ctx, name, "block", name);
  await show(
    ctx,
    item,
    name.toLowerCase(),
    () => ctx.reads.block(route),
    ({ value, checked }) => {
      const { header, txs, evidence } = value.block;
      return [
        badge(checked),
        fields([
          ["Height", String(header.height), "height"],
          ["Hash", h("code", {}, value.hash), "hash"],
          ["Time", formatTime(header.time), "time"],
          [
            "Parent",
            header.height > 1
              ? link(hrefOf({ page: "block", height: header.height - 1 }), toHex(header.parentHash))
              : toHex(header.parentHash),
          ],
          ["Proposer", accountLink(addressOf(header.proposer)), "proposer"],
          ["Transactions", String(header.txCount), "txCount"],
          ["Evidence", String(evidence.length)],
          ["State root", h("code", {}, toHex(header.stateRoot))],
          [
            "Validators",
            link(
              hrefOf({ page: "validators", height: header.height }),
              toHex(header.validatorsHash),
            ),
          ],
          ["Protocol version", String(header.protocolVersion ?? 1)],
        ]),
        h("h2", {}, "Transactions"),
        txs.length === 0
          ? h("p", {}, "None.")
          : h(
              "ol",
              { class: "txs", start: "0" },
              txs.map((stx) => {
                const hash = toHex(transactionHash(stx.tx));
                const b = stx.tx.body;
                return h(
                  "li",
                  { "data-tx": hash },
                  link(hrefOf({ page: "tx", hash }), shortHex(hash), `transaction ${hash}`),
                  b.kind === "transfer"
                    ? ` · ${formatAmount(b.amount)} to ${shortHex(formatAddress(b.to), 10)}`
                    : ` · validator vote: power ${b.power}`,
                );
              }),
            ),
      ];
    },
  );
}

/** A transaction and its receipt: proven in its block's transaction tree, or the server's word. */
export async function txPage(
  ctx: PageContext,
  route: Extract<Route, { page: "tx" }>,
): Promise<void> {
  const item = itemPage(ctx, `Transaction ${shortHex(route.hash)}`, "tx", "transaction");
  await show(
    ctx,
    item,
    "the transaction",
    () => ctx.reads.transaction(route.hash),
    (found) => {
      if (!found)
        return [
          unverifiedBadge(
            "the server says it has never seen this transaction; that cannot be proven.",
          ),
          h("p", { "data-field": "status" }, "Not found."),
        ];
      const { json, verified } = found;
      if (!verified)
        return [
          unverifiedBadge(
            json.status === "pending"
              ? "the server says it is pending; nothing proves a transaction until it is in a final block."
              : `the server says it was dropped (${json.error?.code ?? "no code"}); that cannot be proven.`,
          ),
          fields([
            ["Hash", h("code", {}, route.hash), "hash"],
            ["Status", json.status, "status"],
          ]),
        ];
      const tx = verified.value;
      if (tx.status !== "committed") return [];
      return [
        badge(verified.checked),
        fields([
          ["Hash", h("code", {}, tx.hash), "hash"],
          ["Status", "committed (final)", "status"],
          [
            "Block",
            link(hrefOf({ page: "block", height: tx.height }), String(tx.height)),
            "height",
          ],
          ["Index in block", String(tx.index), "index"],
          ["Receipt", "success: every committed transaction applied", "receipt"],
          ...txRows(tx.tx),
          ["Signature", h("code", {}, shortHex(toHex(tx.tx.signature), 16))],
        ]),
      ];
    },
  );
}

/** An account's balance and nonce at the latest height, proven against the state root. */
export async function accountPage(
  ctx: PageContext,
  route: Extract<Route, { page: "account" }>,
): Promise<void> {
  const item = itemPage(ctx, "Account", "account", "account");
  await show(
    ctx,
    item,
    "the account",
    () => ctx.reads.account(route.address),
    ({ value, checked }) => [
      badge(checked),
      fields([
        ["Address", h("code", {}, value.address), "address"],
        ["Balance", formatAmount(value.balance), "balance"],
        ["Nonce", String(value.nonce), "nonce"],
        ["Exists", value.exists ? "yes" : "no (proven absent)", "exists"],
        [
          "At height",
          link(hrefOf({ page: "block", height: value.height }), String(value.height)),
          "height",
        ],
      ]),
    ],
  );
}

/** The set that signed the latest block (or a height), and how it changed since the genesis set. */
export async function validatorsPage(
  ctx: PageContext,
  route: Extract<Route, { page: "validators" }>,
): Promise<void> {
  title(ctx, route.height === undefined ? "Validators" : `Validators of block ${route.height}`);
  const item = section("validators", "validator set");
  const changes = section("changes", "changes since the genesis set");
  ctx.main.append(item, h("h2", {}, "Changes since the genesis set"), changes);
  const current = await show(
    ctx,
    item,
    "the validator set",
    () => ctx.reads.validators(route.height),
    ({ value, checked }) => {
      const total = value.set.reduce((sum, v) => sum + v.power, 0n);
      return [
        badge(checked),
        h(
          "p",
          {},
          `The set that signed block ${value.height}${route.height === undefined ? " (the latest)" : ""}: ${value.set.length} validators, total power ${total}.`,
        ),
        h(
          "table",
          {},
          h("caption", {}, `Validators of block ${value.height}`),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Address"),
              h("th", { scope: "col" }, "Power"),
              h("th", { scope: "col" }, "Share"),
            ),
          ),
          h(
            "tbody",
            {},
            value.set.map((v) => {
              const address = addressOf(v.publicKey);
              return h(
                "tr",
                { "data-validator": address },
                h(
                  "td",
                  {},
                  link(hrefOf({ page: "account", address }), shortHex(address, 10), address),
                ),
                h("td", { "data-field": "power" }, String(v.power)),
                h("td", {}, formatShare(v.power, total)),
              );
            }),
          ),
        ),
      ];
    },
  );
  if (!current) {
    changes.replaceChildren(h("p", {}, "Not compared: the current set is not verified."));
    return;
  }
  await show(
    ctx,
    changes,
    "the genesis set",
    () => ctx.reads.validators(1),
    ({ value, checked }) => {
      const list = setChanges(value.set, current.value.set);
      return [
        badge(checked),
        list.length === 0
          ? h(
              "p",
              { "data-field": "changes" },
              `No change: block ${current.value.height} is signed by the genesis set.`,
            )
          : h(
              "ul",
              { "data-field": "changes" },
              list.map((c) => h("li", {}, changeText(c))),
            ),
      ];
    },
  );
}

/** A 64-hex query: a transaction's hash, or else a block's; the page found replaces this one. */
export async function searchPage(
  ctx: PageContext,
  route: Extract<Route, { page: "search" }>,
): Promise<void> {
  const item = itemPage(ctx, "Search", "search", "search");
  await show(
    ctx,
    item,
    `“${shortHex(route.query)}”`,
    async () => {
      const tx = await ctx.reads.transaction(route.query);
      if (tx) return { page: "tx", hash: route.query } as const;
      try {
        await ctx.reads.block({ hash: route.query });
        return { page: "block", hash: route.query } as const;
      } catch (err) {
        if ((err as { code?: unknown }).code === "NOT_FOUND") return null;
        throw err;
      }
    },
    (found) => {
      if (!found)
        return [
          unverifiedBadge(
            "the server says it has no such transaction or block; that cannot be proven.",
          ),
          h("p", {}, `Nothing found with the hash ${route.query}.`),
        ];
      location.replace(hrefOf(found));
      return [];
    },
  );
}

export function notFoundPage(ctx: PageContext, route: Extract<Route, { page: "not-found" }>): void {
  title(ctx, "Not found");
  ctx.main.append(
    h(
      "p",
      {},
      `Nothing here is named “${route.fragment}”. Search by a height, a 64-digit hash or an el1… address.`,
    ),
  );
}
