import assert from "node:assert/strict";
import { join } from "node:path";
import { serveDashboard } from "./dashboard.ts";

Deno.test("a live page's event stream starts with an update: what a run wrote before it began is not lost", async () => {
  const root = await Deno.makeTempDir({ prefix: "gossamer_dashboard_" });
  const controller = new AbortController();
  let port = 0;
  const server = await serveDashboard({
    root,
    port: 0,
    signal: controller.signal,
    onListen: (address) => port = address.port,
  });
  try {
    await Deno.mkdir(join(root, "run"));
    await Deno.writeTextFile(join(root, "run", "plan.json"), "{}");
    // Metrics written after the page was fetched, before its event stream opens.
    await Deno.writeTextFile(join(root, "run", "metrics.jsonl"), "{}\n");
    const response = await fetch(`http://127.0.0.1:${port}/events?run=run`);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let received = "";
    // Nothing changes on disk from here on: only the stream's first poll can say "update". A
    // stream that never does is given up after 5 s.
    const giveUp = setTimeout(() => reader.cancel(), 5_000);
    while (!/event: update\ndata: [^\n]*\n\n/.test(received)) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value;
    }
    clearTimeout(giveUp);
    assert.match(received, /^: following\n\nevent: update\ndata: 3:-1\n\n/);
    await reader.cancel();
  } finally {
    controller.abort();
    await server.finished;
    await Deno.remove(root, { recursive: true });
  }
});
