/**
 * Issue 20, item 9: a member that is connected and authenticated but only sends heartbeats
 * (it never reports a step) looks alive to its peers, so no peer timeout names it, and the run
 * failed after the coordinator's silence timeout with "No worker reported anything", naming
 * nobody. The message now names the stalled worker, its host, and what it last reported when.
 *
 * @module
 */

import assert from "node:assert/strict";
import { STACK_LINE } from "../_cli.ts";
import { freePort, reap, startWith, TEST_SECRET } from "../runtime/_processes.ts";
import { tempRunFolder } from "../runtime/_plans.ts";
import { allReduce, custom, sgd, synthetic, train } from "../../mod.ts";

Deno.test("stalled member: a worker that only heartbeats is named when the run falls silent", async () => {
  const module = new URL("../fixtures/stalling_model.ts", import.meta.url);
  const plan = train(custom({ module }))
    .data(synthetic({ task: "classification", features: 4, classes: 2, trainSize: 64 }))
    .workers(2)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .steps(20)
    .evalEvery(20)
    .compile();
  const folder = await tempRunFolder();
  await Deno.writeTextFile(`${folder}/plan.json`, JSON.stringify(plan));
  const rendezvous = `127.0.0.1:${freePort()}`;
  const env = { GOSSAMER_SECRET: TEST_SECRET };
  const coordinator = startWith(
    env,
    "run",
    `${folder}/plan.json`,
    "--out",
    `${folder}/run`,
    "--launch",
    "none",
    "--rendezvous",
    rendezvous,
    "--silence-timeout",
    "3000",
    "--quiet",
  );
  const worker = (rank: number, extra: Record<string, string>) =>
    startWith(
      { ...env, ...extra },
      "worker",
      "--plan",
      `${folder}/plan.json`,
      "--rank",
      String(rank),
      "--world",
      "2",
      "--rendezvous",
      rendezvous,
    );
  const honest = worker(0, {});
  const stalled = worker(1, { GOSSAMER_TEST_STALL: "1" });
  try {
    const result = await coordinator.output;
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /No worker reported anything for \d+ ms/);
    assert.match(
      result.stderr,
      /Stalled: worker 1 \(host 127\.0\.0\.1\) reported no step since it registered; last heard \d+\.\d s ago, while worker 0 waits in a collective/,
    );
    assert.doesNotMatch(result.stderr, STACK_LINE);
    const summary = JSON.parse(await Deno.readTextFile(`${folder}/run/summary.json`));
    assert.equal(summary.status, "failed");
    assert.match(summary.error, /Stalled: worker 1 /);
  } finally {
    await Promise.all([coordinator, honest, stalled].map(reap));
    await Deno.remove(folder, { recursive: true });
  }
});
