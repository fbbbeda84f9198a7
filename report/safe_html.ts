/**
 * HTML built in one way only: the {@linkcode safeHtml} tagged template, whose interpolations are
 * escaped unless they are already {@linkcode SafeHtml} (markup built by `safeHtml` itself, or marked
 * trusted by name with {@linkcode trustedHtml}). Every page of the reports and the dashboard is
 * built with it, so a value read from a run folder (a status, a plan field, a run's name) can
 * only ever reach a page as text, wherever it is interpolated.
 *
 * @module
 */

/** Markup that is safe to insert as is. Only {@linkcode safeHtml} and {@linkcode trustedHtml} make it. */
export class SafeHtml {
  /** The markup. */
  readonly markup: string;

  /**
   * Wraps markup; use {@linkcode safeHtml} or {@linkcode trustedHtml} rather than this.
   *
   * @param markup The markup.
   */
  constructor(markup: string) {
    this.markup = markup;
  }

  /** The markup, so a page can be written out. */
  toString(): string {
    return this.markup;
  }
}

/**
 * Escapes text for HTML element content and attribute values (quoted with `"` or `'`).
 *
 * @param text Any text.
 * @returns The text with `&`, `<`, `>`, `"` and `'` escaped.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeHtml } from "./safe_html.ts";
 *
 * assert.equal(escapeHtml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

/** One interpolated value as markup: safe markup as is, lists joined, anything else escaped. */
function fragment(value: unknown): string {
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(fragment).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

/**
 * Builds markup from a template whose every interpolation is escaped, unless it is
 * {@linkcode SafeHtml}; arrays are joined, `null`, `undefined` and `false` are empty.
 *
 * @param strings The template's literal parts (the trusted markup).
 * @param values The interpolated values.
 * @returns The markup.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { safeHtml } from "./safe_html.ts";
 *
 * const status = 'x"><script>alert(1)</script>';
 * const row = safeHtml`<tr class="status-${status}"><td>${[safeHtml`<b>${"a<b"}</b>`, 2]}</td></tr>`;
 * assert.equal(
 *   String(row),
 *   '<tr class="status-x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"><td><b>a&lt;b</b>2</td></tr>',
 * );
 * ```
 */
export function safeHtml(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let markup = strings[0]!;
  for (const [index, value] of values.entries()) markup += fragment(value) + strings[index + 1]!;
  return new SafeHtml(markup);
}

/**
 * Marks markup the program made itself as safe: the style sheet, the dashboard's script, SVG
 * from Vega's renderer (which escapes the text it draws). Never pass it a value read from a file.
 *
 * @param markup Markup from the program itself.
 * @returns The same markup, insertable by {@linkcode safeHtml}.
 */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * The Content-Security-Policy of a page: nothing is fetched or run but inline styles and `data:`
 * images, and, when the page has one, its own inline script (allowed by its hash, so no other
 * script runs even if one were injected) with requests back to the server it came from.
 *
 * @param script The page's one inline script, exactly as between its tags, if any.
 * @returns The policy, for a `<meta http-equiv>` and the `Content-Security-Policy` header.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentSecurityPolicy } from "./safe_html.ts";
 *
 * assert.equal(
 *   await contentSecurityPolicy(),
 *   "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
 * );
 * assert.match(await contentSecurityPolicy("1"), /script-src 'sha256-a4ayc\/80\/OGda4BO\/1o\/V0etpOqiLx1JwB5S3beHW0s='/);
 * ```
 */
export async function contentSecurityPolicy(script?: string): Promise<string> {
  const base = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
  if (script === undefined) return base;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(script));
  const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
  return `${base}; script-src 'sha256-${hash}'; connect-src 'self'`;
}
