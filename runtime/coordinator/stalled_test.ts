import assert from "node:assert/strict";
import { stalledSentence, type WorkerProgress } from "./stalled.ts";

/** A running worker heard at time 0, on host 10.0.0.<rank>. */
function worker(rank: number, step: number | null, change: Partial<WorkerProgress> = {}) {
  return { rank, host: `10.0.0.${rank}`, step, heardAt: 0, waiting: false, done: false, ...change };
}

Deno.test("stalledSentence names the worker the others wait for, with its host and last report", () => {
  assert.equal(
    stalledSentence([
      worker(0, 41, { waiting: true }),
      worker(1, 41, { waiting: true }),
      worker(2, 40, { heardAt: 500 }),
      worker(3, 41, { waiting: true }),
    ], 60_500),
    "Stalled: worker 2 (host 10.0.0.2) last reported step 40, 60.0 s ago, while workers 0, 1 and 3 wait in a collective",
  );
});

Deno.test("stalledSentence: without waiting notices, the workers furthest behind are named", () => {
  assert.equal(
    stalledSentence(
      [worker(0, 7), worker(1, 3), worker(2, null, { host: null }), worker(3, null)],
      1000,
    ),
    "Stalled: worker 2 (host unknown) reported no step since it registered; last heard 1.0 s ago; worker 3 (host 10.0.0.3) reported no step since it registered; last heard 1.0 s ago",
  );
});

Deno.test("stalledSentence: when every running worker waits, it says so and names the furthest behind", () => {
  assert.equal(
    stalledSentence([
      worker(0, 5, { waiting: true }),
      worker(1, 4, { waiting: true }),
      worker(2, 9, { done: true }),
    ], 2000),
    "Every unfinished worker waits in a collective; furthest behind: worker 1 (host 10.0.0.1) last reported step 4, 2.0 s ago",
  );
});

Deno.test("stalledSentence: finished workers are never named; a finished run names nobody", () => {
  assert.equal(stalledSentence([worker(0, 9, { done: true })], 10), null);
  assert.equal(stalledSentence([], 10), null);
  assert.match(
    stalledSentence([worker(0, 0, { done: true }), worker(1, 3)], 0)!,
    /^Stalled: worker 1 /,
  );
});

Deno.test("stalledSentence names at most eight workers of a large silent run", () => {
  const workers = Array.from({ length: 20 }, (_, rank) => worker(rank, null));
  const sentence = stalledSentence(workers, 0)!;
  assert.equal(sentence.match(/worker \d+ \(/g)?.length, 8);
  assert.match(sentence, /; and 12 more$/);
});
