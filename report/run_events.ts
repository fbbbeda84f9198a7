/**
 * The dashboard's live channel: a server-sent event stream that says "update" whenever the
 * followed runs' files change, polling them on a timer. A stream can be closed at any moment
 * (the client leaves, the server stops), also while a poll is reading the files; the poll then
 * ends quietly, and nothing is written to a closed stream.
 *
 * @module
 */

/** How a {@linkcode runEvents} stream follows its runs. */
export interface RunEventsOptions {
  /** A value that changes whenever the run in `folder` wrote something. */
  readonly fingerprint: (folder: string) => Promise<string>;
  /** How often the files are looked at, ms. */
  readonly intervalMs: number;
  /**
   * The open streams' close functions: a stream adds its own while open, so a server that
   * stops can close them all.
   */
  readonly open: Set<() => void>;
}

/**
 * A server-sent event stream following `folders`.
 *
 * @param folders The run folders the page shows.
 * @param options How to tell that a run changed, how often, and where open streams are kept.
 * @returns The stream, for a `text/event-stream` response.
 */
export function runEvents(
  folders: string[],
  options: RunEventsOptions,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let close = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const seen = new Map<string, string>();
      let ticks = 0;
      close = () => {
        clearTimeout(timer);
        options.open.delete(close);
        try {
          controller.close();
        } catch { /* already closed */ }
      };
      options.open.add(close);
      const poll = async () => {
        // The first poll always says "update": the page was read before this stream began,
        // and what a run wrote in between would otherwise never reach it.
        let changed = ticks === 0;
        for (const folder of folders) {
          const now = await options.fingerprint(folder);
          const before = seen.get(folder);
          seen.set(folder, now);
          if (before !== undefined && before !== now) changed = true;
        }
        // The stream may have closed while the files were read.
        if (!options.open.has(close)) return;
        if (changed) {
          const data = folders.map((folder) => seen.get(folder)).join(" ");
          controller.enqueue(encoder.encode(`event: update\ndata: ${data}\n\n`));
        }
        // A comment every 15 s keeps proxies and idle timeouts from closing the stream.
        if (++ticks % 30 === 0) controller.enqueue(encoder.encode(": alive\n\n"));
        timer = setTimeout(follow, options.intervalMs);
      };
      // A poll that fails ends its stream, never the server.
      const follow = () => void poll().catch(close);
      controller.enqueue(encoder.encode(": following\n\n"));
      follow();
    },
    cancel() {
      close();
    },
  });
}
