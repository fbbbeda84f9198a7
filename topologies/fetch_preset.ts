/**
 * Fetching a topology preset from a URL, so presets can be shared the way model modules are.
 * A preset is data: it is fetched as text, parsed as JSON and validated like a file
 * (`fromFile`), never imported or evaluated.
 *
 * @module
 */

import type { CustomTopology } from "./types.ts";
import { parsePreset } from "./_preset.ts";
import { fromFile } from "./from_file.ts";
import { TopologyFileError } from "./topology_file_error.ts";

/** The largest preset read: a 1000-worker matrix of full-precision numbers is about 20 MB. */
const MAX_PRESET_BYTES = 64 * 1024 * 1024;

/** Hosts plain `http:` is allowed for: this machine only (a test server, a local mirror). */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Fetches a preset from an `https:` URL (or `http:` on this machine: `localhost`, `127.0.0.1`,
 * `[::1]`) and loads it as {@linkcode fromFile} loads a file: the node's name is the preset's
 * `name`, else the URL's last part; its source is the URL. A `file:` URL is read as a file.
 * Plans are built synchronously, so a pipeline awaits the preset first:
 * `gossip(await fetchPreset("https://…/ring8.json"))`.
 *
 * @param url The preset's URL.
 * @param options `signal` to give up waiting.
 * @returns A frozen custom topology node.
 * @throws {TopologyFileError} When the URL's scheme is not allowed, the server cannot be
 *   reached or answers other than 200, the body is over 64 MiB, or the preset is invalid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fetchPreset } from "./mod.ts";
 *
 * const preset = { name: "pair", weights: [[0.5, 0.5], [0.5, 0.5]] };
 * const url = `data:application/json,${encodeURIComponent(JSON.stringify(preset))}`;
 * await assert.rejects(fetchPreset(url), /data: URL/);
 * ```
 */
export async function fetchPreset(
  url: string | URL,
  options: { readonly signal?: AbortSignal } = {},
): Promise<CustomTopology> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TopologyFileError(String(url), "not a URL (a file is loaded with fromFile)");
  }
  const source = parsed.href;
  if (parsed.protocol === "file:") {
    return fromFile(parsed);
  }
  const loopback = parsed.protocol === "http:" && LOOPBACK.has(parsed.hostname);
  if (parsed.protocol !== "https:" && !loopback) {
    throw new TopologyFileError(
      source,
      parsed.protocol === "http:"
        ? "plain http: is accepted only from this machine (localhost); use https:"
        : `a preset is fetched from an https: URL, not a ${parsed.protocol} URL`,
    );
  }
  let text: string;
  try {
    const response = await fetch(parsed, {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      headers: { accept: "application/json" },
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`the server answered ${response.status} ${response.statusText}`.trim());
    }
    text = await boundedText(response);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new TopologyFileError(source, detail, { cause: error });
  }
  return parsePreset(text, source);
}

/** The response's body as text, refusing one over {@linkcode MAX_PRESET_BYTES}. */
async function boundedText(response: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? new ReadableStream<Uint8Array>()) {
    size += chunk.byteLength;
    // Leaving the loop by throwing cancels the body.
    if (size > MAX_PRESET_BYTES) {
      throw new Error(`the preset is over ${MAX_PRESET_BYTES / 1024 / 1024} MiB`);
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
