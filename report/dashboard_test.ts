import assert from "node:assert/strict";
import { join } from "node:path";
import { allReduce, leastSquares, linear, sgd, train } from "../mod.ts";
import type { MetricsLine } from "../runtime/metrics.ts";
import { serveDashboard } from "./dashboard.ts";

const SHARDS = new URL("../examples/data/least_squares_4.json", import.meta.url);

/** Worker `w`'s step `k` of a hand-written run. */
function step(k: number, w: number): MetricsLine {
  const sent = { base: 100, outer: 0, compressed: 0, control: 0, state: 0 };
  return {
    type: "step",
    step: k,
    worker: w,
    loss: 1 / (k + 1),
    lr: 0.05,
    computeMs: 1,
    commMs: 1,
    elapsedMs: 10 * (k + 1),
    bytesSent: sent,
    bytesReceived: sent,
  };
}

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

Deno.test("the dashboard's run page shows an elastic run's live workers and leaves, and the next fetch the next leave", async () => {
  const root = await Deno.makeTempDir({ prefix: "gossamer_dashboard_" });
  const controller = new AbortController();
  let port = 0;
  const server = await serveDashboard({
    root,
    port: 0,
    signal: controller.signal,
    onListen: (address) => port = address.port,
  });
  const folder = join(root, "elastic");
  const plan = train(linear({ dim: 3 })).data(leastSquares({ file: SHARDS })).workers(4)
    .optimizer(sgd({ lr: 0.05 })).base(allReduce()).steps(40).elastic({ minWorkers: 2 })
    .compile();
  const append = (lines: readonly MetricsLine[]) =>
    Deno.writeTextFile(
      join(folder, "metrics.jsonl"),
      lines.map((line) => JSON.stringify(line) + "\n").join(""),
      { append: true },
    );
  const page = async () => {
    const response = await fetch(`http://127.0.0.1:${port}/run?run=elastic`);
    assert.equal(response.status, 200);
    return await response.text();
  };
  try {
    await Deno.mkdir(folder);
    await Deno.writeTextFile(join(folder, "plan.json"), JSON.stringify(plan));
    await append([0, 1, 2, 3].map((w) => step(0, w)));
    // Elastic, nobody left yet: all four live.
    assert.match(await page(), /<table id="membership-live">[^]*<td>4 of 4<\/td>/);
    await append([
      { type: "membership", step: 1, worker: 0, left: [2], members: [0, 1, 3], reason: "declared" },
      ...[0, 1, 3].map((w) => step(1, w)),
    ]);
    const first = await page();
    assert.match(first, /<td>3 of 4<\/td><td>0, 1, 3<\/td><td>step 1<\/td>/);
    assert.match(first, /<td>worker 2 left \(declared\)<\/td>/);
    assert.match(first, /<figure id="chart-membership"/);
    await append([
      {
        type: "membership",
        step: 2,
        worker: 0,
        left: [3],
        members: [0, 1],
        reason: "lost",
        detail:
          "Worker 3 disconnected from the coordinator before finishing (it died or was killed)",
      },
      ...[0, 1].map((w) => step(2, w)),
    ]);
    const second = await page();
    assert.match(second, /<td>2 of 4<\/td><td>0, 1<\/td><td>step 2<\/td>/);
    assert.match(second, /<td>worker 2 left \(declared\)<\/td>[^]*<td>worker 3 lost<\/td>/);
  } finally {
    controller.abort();
    await server.finished;
    await Deno.remove(root, { recursive: true });
  }
});
