/**
 * The local dashboard behind `gossamer serve`: lists the runs under a folder with their status,
 * shows any run (or a selection of runs, compared) as its report, and keeps the page live while
 * a run trains. The server follows each run's `metrics.jsonl` and tells the page through
 * server-sent events when it grew; the page then fetches itself again and swaps its content, so
 * the plots stay the report's own server-rendered SVG (no plotting code in the browser, nothing
 * fetched from the network).
 *
 * Only runs found under the served folder can be named; any other path is refused.
 *
 * @module
 */

import { join, relative, resolve, sep } from "node:path";
import { algorithmKinds } from "../dsl/explain.ts";
import type { Plan } from "../dsl/plan.ts";
import type { RunSummary } from "../runtime/run_types.ts";
import { escapeHtml, REPORT_CSS } from "./html.ts";
import { reportOf } from "./report.ts";
import { readRun } from "./run_data.ts";
import { runEvents } from "./run_events.ts";
import { messageOf } from "../runtime/errors.ts";

/** How deep below the served folder runs are looked for (`runs/demo-…/<pipeline>` is 2). */
const SEARCH_DEPTH = 3;

/** How often the server looks at the followed runs' files, ms. */
const FOLLOW_INTERVAL_MS = 500;

/** A run without a summary whose metrics have not changed for this long has stopped, ms. */
const STALE_AFTER_MS = 120_000;

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
  /** `completed`, `failed`, `running`, or `stopped` (no summary and no recent metrics). */
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
  if (plan === null || typeof plan.workers !== "number") return null;
  const summary = await readJson<RunSummary>(join(folder, "summary.json"));
  const modified = await Deno.stat(join(folder, "metrics.jsonl")).then(
    (info) => info.mtime,
    () => null,
  );
  const stale = modified === null || Date.now() - modified.getTime() > STALE_AFTER_MS;
  return {
    id: relative(root, folder).split(sep).join("/"),
    algorithm: algorithmKinds(plan).join(" + "),
    workers: plan.workers,
    steps: plan.steps,
    status: summary?.status ?? (stale ? "stopped" : "running"),
    finalAccuracy: summary?.final?.testAccuracy ?? null,
    modified,
  };
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
    const id = escapeHtml(run.id);
    const accuracy = run.finalAccuracy === null ? "-" : `${(100 * run.finalAccuracy).toFixed(2)}%`;
    return `<tr class="status-${run.status}"><td><input type="checkbox" name="run" value="${id}"></td>` +
      `<td><a href="/run?run=${encodeURIComponent(run.id)}">${id}</a></td>` +
      `<td>${escapeHtml(run.algorithm)}</td><td>${run.workers}</td><td>${run.steps}</td>` +
      `<td>${run.status}</td><td>${accuracy}</td>` +
      `<td>${
        run.modified === null ? "-" : run.modified.toISOString().slice(0, 19).replace("T", " ")
      }</td></tr>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gossamer runs</title>
<style>${REPORT_CSS}</style></head><body><main>
<h1>gossamer runs</h1>
<p class="meta">${runs.length} runs under ${escapeHtml(root)}. Open one to follow it live, or select
several and compare them.</p>
<form action="/compare" method="get">
<div class="scroll"><table id="runs"><thead><tr><th></th><th>run</th><th>algorithm</th><th>workers</th>
<th>steps</th><th>status</th><th>final accuracy</th><th>last metrics (UTC)</th></tr></thead><tbody>
${rows}
</tbody></table></div>
<p><button type="submit">Compare selected runs</button></p>
</form>
</main></body></html>
`;
}

/**
 * The page's script: on every update event of the followed runs, fetch the page again and swap
 * its content. `data-updates` on the body counts the swaps (tests and curious users watch it).
 */
const LIVE_SCRIPT = `<script>
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
</script>`;

/** A plain-text response with a status. */
function text(status: number, body: string): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** An HTML response. */
function html(body: string): Response {
  return new Response(body, {
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
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
  /** Stops the server, closing live event streams. */
  readonly signal?: AbortSignal;
  /** Called with the address once listening. */
  readonly onListen?: (address: { hostname: string; port: number }) => void;
}

/**
 * Serves the dashboard until the signal aborts.
 *
 * @param options Folder, address, signal.
 * @returns The server (await `finished` for its end).
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 */
export async function serveDashboard(options: DashboardOptions): Promise<Deno.HttpServer> {
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

  const page = async (folders: string[], title: string): Promise<Response> => {
    const runs = await Promise.all(folders.map(readRun));
    const report = await reportOf(runs, { title });
    return html(
      report.html.replace("</head>", `${LIVE_SCRIPT}</head>`).replace(
        "<main>",
        '<main><p class="meta"><a href="/">← all runs</a> · live: the page updates while runs write metrics</p>',
      ),
    );
  };

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (request.method !== "GET") return text(405, "Only GET is served");
    switch (url.pathname) {
      case "/":
        return html(indexHtml(root, await listRuns(root)));
      case "/run":
      case "/compare": {
        const folders = await selected(url);
        if (folders === null) return text(404, "No such run under the served folder");
        const title = folders.length === 1 ? `run ${url.searchParams.get("run")}` : "comparison";
        return await page(folders, title);
      }
      case "/events": {
        const folders = await selected(url);
        if (folders === null) return text(404, "No such run under the served folder");
        return new Response(
          runEvents(folders, { fingerprint, intervalMs: FOLLOW_INTERVAL_MS, open: streams }),
          { headers: { "content-type": "text/event-stream", "cache-control": "no-store" } },
        );
      }
      default:
        return text(404, `Not found: ${url.pathname}`);
    }
  };

  return Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8080,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onListen: (address) => options.onListen?.(address),
    onError: (error) => text(500, `Cannot show this page: ${messageOf(error)}`),
  }, handler);
}
