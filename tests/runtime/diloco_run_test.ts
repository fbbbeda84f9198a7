import assert from "node:assert/strict";
import { diloco, explainPlan, linear, localSgd, run, sgd, synthetic, train } from "../../mod.ts";
import { FRAME_HEADER_BYTES } from "../../runtime/comm/wire.ts";
import { leastSquaresPipeline, runIn, tempRunFolder } from "./_plans.ts";

Deno.test("§5.11: diloco({ lr: 1, momentum: 0 }) over localSgd runs as plain localSgd", async () => {
  const parent = await tempRunFolder();
  try {
    const start = leastSquaresPipeline(12);
    const plain = await run(start.base(localSgd({ tau: 3 })).compile(), {
      transport: "memory",
      out: `${parent}/plain`,
    });
    const outer = await run(
      start.base(localSgd({ tau: 3 })).outer(diloco({ tau: 3, lr: 1, momentum: 0 })).compile(),
      { transport: "memory", out: `${parent}/outer` },
    );
    const expected = plain.params.workers.flat() as number[];
    const actual = outer.params.workers.flat() as number[];
    assert.equal(actual.length, expected.length);
    for (const [i, value] of actual.entries()) {
      const scale = Math.max(Math.abs(expected[i]!), 1e-12);
      assert.ok(
        Math.abs(value - expected[i]!) <= 1e-6 * scale,
        `parameter ${i}: ${value} vs ${expected[i]}`,
      );
    }
    assert.notDeepEqual(outer.params.average, [0, 0, 0], "training moved the model");
    // The same averages, sent once each: under the outer phase instead of the base's.
    for (const [worker, { sent }] of outer.summary.bytes.entries()) {
      const before = plain.summary.bytes[worker]!.sent;
      assert.ok(sent.outer > 0, "the outer step averages");
      assert.equal(sent.base + sent.outer, before.base, `worker ${worker}`);
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("diloco over TCP: the bytes on the socket are the plan's prediction plus the ring's frame headers", async () => {
  const [steps, tau, n, d] = [12, 4, 4, 8];
  // d a multiple of n, so every chunk of the ring holds d/n values and every worker sends alike.
  const plan = train(linear({ dim: d })).data(synthetic({ task: "regression", features: d }))
    .workers(n).optimizer(sgd({ lr: 0.05 })).base(localSgd({ tau })).outer(diloco({ tau }))
    .steps(steps).compile();
  // One ring all-reduce of d floats per outer step, 2(n − 1)/n · 4d bytes, spread over tau.
  const predicted = explainPlan(plan).bytesPerStep!;
  assert.deepEqual(predicted, {
    base: 0,
    outer: 2 * 3 / 4 * 4 * d / tau,
    compressed: 0,
    control: 0,
    state: 0,
  });
  await runIn(plan, { transport: "tcp" }, (result) => {
    const syncs = steps / tau;
    for (const { sent, received } of result.summary.bytes) {
      // A ring all-reduce is 2(n − 1) messages per worker, each with its frame header.
      assert.equal(sent.outer, predicted.outer * steps + syncs * 2 * (n - 1) * FRAME_HEADER_BYTES);
      assert.equal(received.outer, sent.outer);
      assert.equal(sent.base, 0);
    }
    return Promise.resolve();
  });
});
