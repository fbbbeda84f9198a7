import assert from "node:assert/strict";
import { cada, run } from "../../mod.ts";
import { leastSquaresPipeline, readStepLines, tempRunFolder } from "./_plans.ts";

/** The 12-byte frame header every message carries (runtime/comm/wire.ts). */
const HEADER = 12;

Deno.test("cada over TCP: skipped uploads cost one frame header at the socket; the summary counts them", async () => {
  const [steps, maxDelay, d, n] = [7, 3, 3, 4];
  // A threshold no gradient change reaches: uploads only at steps 0, 3 and 6 (maxDelay).
  const plan = leastSquaresPipeline(steps).evalEvery(steps).base(cada({ c: 1e12, maxDelay }))
    .compile();
  const parent = await tempRunFolder();
  try {
    const result = await run(plan, { transport: "tcp", out: `${parent}/run` });
    const lines = await readStepLines(`${parent}/run`);
    for (let worker = 0; worker < n; worker++) {
      const own = lines.filter((line) => line.worker === worker);
      assert.deepEqual(own.flatMap((line) => line.algorithm!.uploaded ? [line.step] : []), [
        0,
        3,
        6,
      ]);
    }
    const sent = result.summary.bytes.map((worker) => worker.sent.base);
    // Workers: a frame to the server every step, d float32 values only when they upload.
    for (const bytes of sent.slice(1)) assert.equal(bytes, steps * HEADER + 3 * 4 * d);
    // The server broadcasts θ to the three others every step.
    assert.equal(sent[0], steps * (n - 1) * (HEADER + 4 * d));
    assert.deepEqual(result.summary.uploads, {
      perWorker: [3, 3, 3, 3],
      possible: steps * n,
      skipRate: 1 - 12 / 28,
      roundsSaved: 16,
      staleness: { "0": 12, "1": 8, "2": 8 },
    });
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
