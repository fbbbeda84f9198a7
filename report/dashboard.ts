/**
 * The local dashboard behind `gossamer serve`: lists the runs under a folder with their status,
 * shows any run (or a selection of runs, compared) as its report, and keeps the page live while
 * a run trains. The server follows each run's `metrics.jsonl` and tells the page through
 * server-sent events when it grew; the page then fetches itself again and swaps its content, so
 * the plots stay the report's own server-rendered SVG (no plotting code in the browser, nothing
 * fetched from the network).
 *
 * Only runs found under the served folder can be named; any other path is refused. Every page is
 * built with the escaping `safeHtml` template and carries a Content-Security-Policy that allows the
 * live script alone; a request whose Host header is not an address, `localhost`, the bound name
 * or an allowed name is refused (DNS rebinding), and a dashboard bound beyond loopback needs a
 * token.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import { join, relative, resolve, sep } from "node:path";
import { algorithmKinds } from "../dsl/explain.ts";
import type { Plan } from "../dsl/plan.ts";
import type { RunSummary } from "../runtime/run_types.ts";
import { REPORT_CSS, statusClass } from "./html.ts";
import { contentSecurityPolicy, safeHtml, trustedHtml } from "./safe_html.ts";
import { reportOf } from "./report.ts";
import { readRun } from "./run_data.ts";
import { isBeingWritten } from "../runtime/coordinator/run_folder.ts";
import { runEvents } from "./run_events.ts";
import { messageOf } from "../runtime/errors.ts";

/** How deep below the served folder runs are looked for (`runs/demo-…/<pipeline>` is 2). */
const SEARCH_DEPTH = 3;

/** How often the server looks at the followed runs' files, ms. */
const FOLLOW_INTERVAL_MS = 500;

/** One run as the index lists it. */
export interface RunEntry {
  /** Its path relative to the served folder, with `/` separators: the run's id in URLs. */
  readonly id: string;
  /** Base, compressor and outer kinds. */
  readonly algorithm: string;
  /** Number of workers. */
  readonly workers: number;
  /** Steps in the plan. */
  readonly steps: number;
  /** `completed`, `failed`, `running`, or `stopped` (no summary and no live writer). */
  readonly status: "completed" | "failed" | "running" | "stopped";
  /** Final accuracy of the averaged model, from the summary; `null` before it ends. */
  readonly finalAccuracy: number | null;
  /** When its metrics last changed. */
  readonly modified: Date | null;
}

/** Reads a JSON file, `null` when missing or damaged (the index lists what it can). */
async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch {
    return null;
  }
}

/**
 * Finds the run folders (folders holding `plan.json`) under `root`, newest first.
 *
 * @param root The served folder.
 * @returns The runs.
 */
export async function listRuns(root: string): Promise<RunEntry[]> {
  const entries: RunEntry[] = [];
  const visit = async (folder: string, depth: number) => {
    let children: Deno.DirEntry[];
    try {
      children = await Array.fromAsync(Deno.readDir(folder));
    } catch {
      return;
    }
    if (children.some((child) => child.isFile && child.name === "plan.json")) {
      const entry = await runEntry(root, folder);
      if (entry !== null) entries.push(entry);
      return;
    }
    if (depth === 0) return;
    for (const child of children) {
      if (child.isDirectory) await visit(join(folder, child.name), depth - 1);
    }
  };
  await visit(root, SEARCH_DEPTH);
  return entries.sort((a, b) => (b.modified?.getTime() ?? 0) - (a.modified?.getTime() ?? 0));
}

/** The index entry of one run folder; `null` when its plan cannot be read. */
async function runEntry(root: string, folder: string): Promise<RunEntry | null> {
  const plan = await readJson<Plan>(join(folder, "plan.json"));
  if (plan === null || typeof plan !== "object" || typeof plan.workers !== "number") return null;
  const summary = await readJson<RunSummary>(join(folder, "summary.json"));
  const modified = await Deno.stat(join(folder, "metrics.jsonl")).then(
    (info) => info.mtime,
    () => null,
  );
  return {
    id: relative(root, folder).split(sep).join("/"),
    algorithm: algorithmOf(plan),
    workers: plan.workers,
    steps: plan.steps,
    status: summary?.status ?? (await isBeingWritten(folder) ? "running" : "stopped"),
    finalAccuracy: typeof summary?.final?.testAccuracy === "number"
      ? summary.final.testAccuracy
      : null,
    modified,
  };
}

/** The plan's algorithm kinds, or `"?"` when a damaged plan does not say. */
function algorithmOf(plan: Plan): string {
  try {
    return algorithmKinds(plan).join(" + ");
  } catch {
    return "?";
  }
}

/**
 * Resolves a run id from a URL to its folder, refusing anything outside the served folder or
 * not a run folder (`..`, absolute paths, links leading out).
 *
 * @param root The served folder, as a real path.
 * @param id The id from the URL.
 * @returns The run folder's real path, or `null` when refused.
 */
export async function resolveRun(root: string, id: string): Promise<string | null> {
  if (id === "" || id.startsWith("/") || id.includes("\\") || id.split("/").includes("..")) {
    return null;
  }
  let real: string;
  try {
    real = await Deno.realPath(resolve(root, id));
  } catch {
    return null;
  }
  if (!real.startsWith(root + sep)) return null;
  try {
    await Deno.stat(join(real, "plan.json"));
  } catch {
    return null;
  }
  return real;
}

/** The index page: every run with its status, and a form to compare a selection. */
function indexHtml(root: string, runs: readonly RunEntry[]): string {
  const rows = runs.map((run) => {
    const accuracy = run.finalAccuracy === null ? "-" : `${(100 * run.finalAccuracy).toFixed(2)}%`;
    const modified = run.modified === null
      ? "-"
      : run.modified.toISOString().slice(0, 19).replace("T", " ");
    const link = `/run?run=${encodeURIComponent(run.id)}`;
    return safeHtml`<tr class="${
      statusClass(run.status)
    }"><td><input type="checkbox" name="run" value="${run.id}"></td><td><a href="${link}">${run.id}</a></td><td>${run.algorithm}</td><td>${run.workers}</td><td>${run.steps}</td><td>${run.status}</td><td>${accuracy}</td><td>${modified}</td></tr>
`;
  });
  return String(safeHtml`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${trustedHtml(INDEX_POLICY)}">
<title>gossamer runs</title>
<style>${trustedHtml(REPORT_CSS)}</style></head><body><main>
<h1>gossamer runs</h1>
<p class="meta">${runs.length} runs under ${root}. Open one to follow it live, or select
several and compare them.</p>
<form action="/compare" method="get">
<div class="scroll"><table id="runs"><thead><tr><th></th><th>run</th><th>algorithm</th><th>workers</th>
<th>steps</th><th>status</th><th>final accuracy</th><th>last metrics (UTC)</th></tr></thead><tbody>
${rows}</tbody></table></div>
<p><button type="submit">Compare selected runs</button></p>
</form>
</main></body></html>
`);
}

/** The index's policy: no script at all; its form submits to this server. */
const INDEX_POLICY = `${await contentSecurityPolicy()}; form-action 'self'`;

/**
 * The page's script: on every update event of the followed runs, fetch the page again and swap
 * its content. `data-updates` on the body counts the swaps (tests and curious users watch it).
 * The page's Content-Security-Policy allows this script alone, by its hash.
 */
const LIVE_SCRIPT = `
(() => {
  const source = new EventSource("/events" + location.search);
  let busy = false;
  source.addEventListener("update", async () => {
    if (busy) return;
    busy = true;
    try {
      const response = await fetch(location.href, { cache: "no-store" });
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      document.querySelector("main").replaceWith(next.querySelector("main"));
      document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
    } finally {
      busy = false;
    }
  });
})();
`;

/** The live pages' policy: the report's, with the live script and requests to this server. */
const LIVE_POLICY = await contentSecurityPolicy(LIVE_SCRIPT);

/** Headers of every response: no sniffing a text answer into a page, no framing by other sites. */
const COMMON_HEADERS = { "x-content-type-options": "nosniff", "cache-control": "no-store" };

/** A plain-text response with a status. */
function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body + "\n", {
    status,
    headers: { ...COMMON_HEADERS, "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** An HTML response under a Content-Security-Policy (the header repeats the page's `<meta>`). */
function page(body: string, policy: string): Response {
  return new Response(body, {
    headers: {
      ...COMMON_HEADERS,
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": `${policy}; frame-ancestors 'none'`,
    },
  });
}

/** What a followed run looks like on disk: changes when metrics grow or the summary appears. */
async function fingerprint(folder: string): Promise<string> {
  const size = (path: string) => Deno.stat(path).then((info) => info.size, () => -1);
  return `${await size(join(folder, "metrics.jsonl"))}:${await size(join(folder, "summary.json"))}`;
}

/** Options of {@linkcode serveDashboard}. */
export interface DashboardOptions {
  /** The folder whose runs are served. */
  readonly root: string;
  /** Interface to bind (default `127.0.0.1`: this machine only). */
  readonly hostname?: string;
  /** Port (default 8080; 0 picks a free one). */
  readonly port?: number;
  /**
   * The secret every request must present (`?token=` once, then a cookie; or an
   * `Authorization: Bearer` header). Required when `hostname` is not a loopback address.
   */
  readonly token?: string;
  /**
   * Host names, besides addresses, `localhost` and `hostname`, that requests may name in their
   * Host header (a name this machine is reached by).
   */
  readonly allowedHosts?: readonly string[];
  /** Stops the server, closing live event streams. */
  readonly signal?: AbortSignal;
  /** Called with the address once listening. */
  readonly onListen?: (address: { hostname: string; port: number }) => void;
}

/**
 * The name of the cookie that carries the token after the first visit; cookies ignore ports, so
 * the port is in the name and two dashboards on one machine keep their own.
 */
function tokenCookie(port: number): string {
  return `gossamer_token_${port}`;
}

/**
 * Whether a host is a loopback address or `localhost`, so only this machine can connect.
 *
 * @param host A host name or address, IPv6 without brackets.
 * @returns Whether it is loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  return lower === "localhost" || lower === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(lower);
}

/**
 * The host name of a Host header (`name`, `name:port`, `[v6]:port`), lower case; `null` when
 * there is none.
 */
function hostName(header: string | null): string | null {
  if (header === null || header === "") return null;
  const bracketed = /^\[([^\]]*)\](:\d+)?$/.exec(header);
  if (bracketed !== null) return bracketed[1]!.toLowerCase();
  return header.replace(/:\d+$/, "").toLowerCase();
}

/**
 * Whether a request's Host header may be served. A DNS-rebinding page reaches this server under
 * its own domain name, so names are refused unless they are `localhost`, the bound name or an
 * allowed one; an IP address cannot be rebound and is accepted.
 *
 * @param header The Host header.
 * @param names The names accepted besides addresses and `localhost`, lower case.
 * @returns Whether to serve it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostAllowed } from "./dashboard.ts";
 *
 * assert.ok(hostAllowed("127.0.0.1:8080", []));
 * assert.ok(hostAllowed("[::1]:8080", []));
 * assert.ok(hostAllowed("localhost:8080", []));
 * assert.ok(!hostAllowed("attacker.example:8080", []));
 * assert.ok(!hostAllowed("127.0.0.1.attacker.example", []));
 * assert.ok(hostAllowed("lab-box:8080", ["lab-box"]));
 * ```
 */
export function hostAllowed(header: string | null, names: readonly string[]): boolean {
  const host = hostName(header);
  if (host === null) return false;
  if (host === "localhost" || names.includes(host)) return true;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || (host.includes(":") && /^[0-9a-f:.]+$/.test(host));
}

/** Whether two secrets are equal, in time that does not depend on where they differ. */
function sameSecret(given: string, token: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token a request presents: its `Authorization: Bearer` header or its cookie. */
function presentedToken(request: Request, cookie: string): string | null {
  const bearer = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "");
  if (bearer !== null) return bearer[1]!;
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === cookie) return value.join("=");
  }
  return null;
}

/**
 * Serves the dashboard until the signal aborts.
 *
 * @param options Folder, address, token, signal.
 * @returns The server (await `finished` for its end).
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 * @throws {TypeError} When bound beyond loopback without a token.
 */
export async function serveDashboard(options: DashboardOptions): Promise<Deno.HttpServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const token = options.token;
  if (token === undefined && !isLoopbackHost(hostname)) {
    throw new TypeError(
      `A dashboard bound to ${hostname} is reachable from other machines: give it a token`,
    );
  }
  const names = [hostname, ...(options.allowedHosts ?? [])].map((name) => name.toLowerCase());
  const root = await Deno.realPath(options.root);
  const streams = new Set<() => void>();
  options.signal?.addEventListener("abort", () => {
    for (const close of streams) close();
  });

  /** The run folders named by `run` parameters; `null` when any is refused. */
  const selected = async (url: URL): Promise<string[] | null> => {
    const ids = url.searchParams.getAll("run");
    if (ids.length === 0) return null;
    const folders = await Promise.all(ids.map((id) => resolveRun(root, id)));
    return folders.every((folder) => folder !== null) ? folders as string[] : null;
  };

  const livePage = async (folders: string[], title: string): Promise<Response> => {
    const runs = await Promise.all(folders.map(readRun));
    const report = await reportOf(runs, { title, script: LIVE_SCRIPT });
    return page(
      report.html.replace(
        "<main>",
        '<main><p class="meta"><a href="/">← all runs</a> · live: the page updates while runs write metrics</p>',
      ),
      LIVE_POLICY,
    );
  };

  /** A refusal, or `null` when the request may be served. */
  const refusal = (request: Request, url: URL): Response | null => {
    const host = request.headers.get("host");
    if (!hostAllowed(host, names)) {
      return text(
        421,
        `Refused: the Host header "${
          (host ?? "").slice(0, 100)
        }" is not this dashboard's address (a page under another name may be rebinding it); ` +
          "open it by address, or allow the name with gossamer serve --allow-host",
      );
    }
    if (token === undefined) return null;
    const given = url.searchParams.get("token");
    if (given !== null && sameSecret(given, token)) {
      // The printed URL carries the token once: trade it for a cookie and drop it from the URL.
      url.searchParams.delete("token");
      return text(303, "Signed in", {
        location: url.pathname + url.search,
        "set-cookie": `${
          tokenCookie(server.addr.port)
        }=${token}; HttpOnly; SameSite=Strict; Path=/`,
      });
    }
    const presented = presentedToken(request, tokenCookie(server.addr.port));
    if (presented !== null && sameSecret(presented, token)) return null;
    return text(
      401,
      "This dashboard needs its token: open the URL gossamer serve printed (it ends in ?token=…)",
    );
  };

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (request.method !== "GET") return text(405, "Only GET is served");
    const refused = refusal(request, url);
    if (refused !== null) return refused;
    switch (url.pathname) {
      case "/":
        return page(indexHtml(root, await listRuns(root)), INDEX_POLICY);
      case "/run":
      case "/compare": {
        const folders = await selected(url);
        if (folders === null) return text(404, "No such run under the served folder");
        const title = folders.length === 1 ? `run ${url.searchParams.get("run")}` : "comparison";
        return await livePage(folders, title);
      }
      case "/events": {
        const folders = await selected(url);
        if (folders === null) return text(404, "No such run under the served folder");
        return new Response(
          runEvents(folders, { fingerprint, intervalMs: FOLLOW_INTERVAL_MS, open: streams }),
          { headers: { ...COMMON_HEADERS, "content-type": "text/event-stream" } },
        );
      }
      default:
        return text(404, `Not found: ${url.pathname.slice(0, 200)}`);
    }
  };

  const server = Deno.serve({
    hostname,
    port: options.port ?? 8080,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onListen: (address) => options.onListen?.(address),
    onError: (error) => text(500, `Cannot show this page: ${messageOf(error)}`),
  }, handler);
  return server;
}
