import assert from "node:assert/strict";
import { diloco, localSgd, run } from "../../mod.ts";
import { leastSquaresPipeline, tempRunFolder } from "./_plans.ts";

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
    const expected = plain.params.workers.flat();
    const actual = outer.params.workers.flat();
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
