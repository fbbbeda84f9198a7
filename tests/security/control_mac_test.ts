/**
 * The control connection against an on-path attacker without the secret (issue 20, item 6): a
 * proxy between one worker process and a coordinator started with `--launch none` lets the
 * handshake through and then rewrites the worker's `done` frame (its parameters all 42.0, as
 * the attack did) or replays one of its frames. The run must fail naming the worker, with
 * nothing reported as completed; through an untouched proxy it equals a direct run.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  freePort,
  reap,
  start,
  type Started,
  startWith,
  TEST_SECRET,
} from "../runtime/_processes.ts";
import { tempRunFolder } from "../runtime/_plans.ts";
import {
  controlHeader,
  rewriteParameters,
  type Rewriter,
  startProxy,
  untouched,
} from "./_proxy.ts";

import { FRAME_MAC_BYTES } from "../../runtime/comm/frame_mac.ts";

const PLAN = "examples/least_squares.ts";

/** A `--launch none` run of four worker processes, `proxied` dialling through the proxy. */
async function proxiedRun(out: string, proxied: number, rewrite: Rewriter) {
  const rendezvous = `127.0.0.1:${freePort()}`;
  const proxy = startProxy(rendezvous, rewrite, untouched, FRAME_MAC_BYTES);
  const env = { GOSSAMER_SECRET: TEST_SECRET };
  const coordinator = startWith(
    env,
    ...["run", PLAN, "--out", out, "--launch", "none", "--rendezvous", rendezvous, "--quiet"],
  );
  const workers: Started[] = [0, 1, 2, 3].map((rank) =>
    startWith(
      env,
      ...["worker", "--plan", PLAN, "--rank", String(rank), "--world", "4"],
      ...["--rendezvous", rank === proxied ? proxy.address : rendezvous],
    )
  );
  try {
    const done = await coordinator.output;
    await Promise.all(workers.map((worker) => worker.output));
    const summary = await Deno.readTextFile(`${out}/summary.json`).then(JSON.parse, () => null);
    const params = await Deno.readTextFile(`${out}/params.json`).catch(() => null);
    return { done, summary, params, seen: proxy.seen.upstream };
  } finally {
    await Promise.all([coordinator, ...workers].map(reap));
    await proxy.close();
  }
}

/** Checks a run that must have failed because of the proxy in front of `worker`. */
function assertFailedNaming(
  run: Awaited<ReturnType<typeof proxiedRun>>,
  worker: number,
): void {
  assert.notEqual(run.done.code, 0, "the altered run ended 0");
  assert.match(
    run.done.stderr,
    new RegExp(
      `[Cc]ontrol frame .*from worker ${worker} failed authentication: the connection was altered`,
    ),
  );
  assert.doesNotMatch(run.done.stderr, /Error:.*\n\s+at /, "a stack trace");
  assert.notEqual(run.summary?.status, "completed");
  assert.equal(run.params, null, "params.json was written from altered data");
}

Deno.test("a proxy that rewrites a worker's done frame makes the run fail naming the worker", async () => {
  const parent = await tempRunFolder();
  try {
    let rewritten = 0;
    const run = await proxiedRun(`${parent}/run`, 0, (frame) => {
      if (controlHeader(frame)?.type === "done") {
        rewriteParameters(frame, 42);
        rewritten++;
      }
      return [frame];
    });
    assert.equal(rewritten, 1, "the worker's done frame never passed the proxy");
    assertFailedNaming(run, 0);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a proxy that replays a worker's metrics frame makes the run fail naming the worker", async () => {
  const parent = await tempRunFolder();
  try {
    let replayed = 0;
    const run = await proxiedRun(`${parent}/run`, 1, (frame) => {
      if (replayed === 0 && controlHeader(frame)?.type === "metrics") {
        replayed++;
        return [frame, frame.slice()];
      }
      return [frame];
    });
    assert.equal(replayed, 1, "no metrics frame passed the proxy");
    assertFailedNaming(run, 1);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("through an untouched proxy a run completes and equals a direct run", async () => {
  const parent = await tempRunFolder();
  try {
    const direct = start("run", PLAN, "--out", `${parent}/direct`, "--quiet");
    const run = await proxiedRun(`${parent}/run`, 2, untouched);
    const reference = await direct.output;
    await reap(direct);
    assert.equal(reference.code, 0, reference.stderr);
    assert.equal(run.done.code, 0, run.done.stderr);
    assert.ok(run.seen >= 2, "the worker's frames did not pass the proxy");
    assert.equal(run.summary.status, "completed");
    assert.equal(run.params, await Deno.readTextFile(`${parent}/direct/params.json`));
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
