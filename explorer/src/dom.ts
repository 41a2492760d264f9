/**
 * The few DOM helpers the pages need instead of a framework: `h` builds an
 * element from a tag, attributes and children (text is always a text node,
 * never HTML, so nothing a server sends can become markup), and the badge
 * and warning elements every item carries.
 */
import { badgeText, type Checked, failureOf, warningText } from "./badge.ts";

type Child = Node | string | number | bigint | null | undefined | false;

export function h(
  tag: string,
  attrs: Readonly<Record<string, string | undefined>> = {},
  ...children: readonly (Child | readonly Child[])[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs))
    if (value !== undefined) el.setAttribute(name, value);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A link to a page of the explorer. */
export function link(href: string, text: string, label?: string): HTMLElement {
  return h("a", { href, ...(label !== undefined && { "aria-label": label }) }, text);
}

/** The badge of a verified item: what was checked, in words. */
export function badge(checked: Checked): HTMLElement {
  return h("p", { class: "badge ok", "data-badge": "verified" }, badgeText(checked));
}

/** The badge of what the server says but nobody can prove (a pending transaction). */
export function unverifiedBadge(text: string): HTMLElement {
  return h("p", { class: "badge unproven", "data-badge": "unverified" }, `◌ Unverified: ${text}`);
}

/** The warning shown in place of an item whose answer failed (or never came). */
export function warning(err: unknown, what: string): HTMLElement {
  const f = failureOf(err);
  return h(
    "div",
    {
      class: f.refused ? "warning refused" : "warning",
      role: "alert",
      "data-verified": "false",
      "data-code": f.code,
    },
    h("strong", {}, what),
    " ",
    warningText(f),
  );
}

/** A definition list of label → value rows (values may be elements). */
export function fields(rows: readonly (readonly [string, Child, string?])[]): HTMLElement {
  return h(
    "dl",
    { class: "fields" },
    rows.flatMap(([label, value, field]) => [
      h("dt", {}, label),
      h("dd", field === undefined ? {} : { "data-field": field }, value),
    ]),
  );
}
