/**
 * Streaming DiLoCo end to end on the tiny transformer (16 variables, so several fragments):
 * bytes on the socket against `gossamer plan`'s traits, step lines and the summary's peak sync,
 * memory against TCP, and resume inside an overlap window.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  adamw,
  explainPlan,
  localSgd,
  type Plan,
  run,
  streamingDiloco,
  text,
  train,
  transformer,
} from "../../mod.ts";
import { fragmentSizes, streamingSyncBytes } from "../../dsl/outers/streaming_diloco.ts";
import type { StreamingDilocoNode } from "../../dsl/plan.ts";
import { modelVariables } from "../../dsl/shapes.ts";
import { resume } from "../../runtime/coordinator/resume.ts";
import {
  deterministicLines,
  readStepLines,
  runIn,
  tempRunFolder,
  writeTinyText,
} from "./_plans.ts";

/** The 12-byte frame header every message carries (runtime/comm/wire.ts). */
const HEADER = 12;
const STEPS = 12;

/** The tiny transformer on 4 workers with streamingDiloco over localSgd of the same period. */
function plan(file: string, outer: StreamingDilocoNode): Plan {
  return train(transformer({ layers: 1, dModel: 8, heads: 2, context: 8 }))
    .data(text({ file, batchSize: 4 }))
    .workers(4)
    .optimizer(adamw({ lr: 0.01, weightDecay: 0.01 }))
    .base(localSgd({ tau: outer.tau }))
    .outer(outer)
    .steps(STEPS)
    .evalEvery(STEPS)
    .seed(5)
    .compile();
}

async function withTinyText(body: (file: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_text_" });
  try {
    const file = join(dir, "tiny.txt");
    await writeTinyText(file);
    await body(file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const bits of [4, 32]) {
  Deno.test(`streamingDiloco (${bits} bits): bytes on the socket are the plan's traits, on both transports`, async () => {
    await withTinyText(async (file) => {
      const node = streamingDiloco({ tau: 4, fragments: 2, overlap: 1, bits });
      const compiled = plan(file, node);
      const explanation = explainPlan(compiled);
      const sizes = fragmentSizes(modelVariables(compiled.model, compiled.data)!, 2);
      assert.equal(sizes[0]! + sizes[1]!, 3000);
      const payload = sizes.map((count) => streamingSyncBytes(node, count, 4));
      // The traits: every fragment once per tau steps; the peak is the larger fragment's.
      assert.equal(explanation.bytesPerStep!.outer, (payload[0]! + payload[1]!) / 4);
      assert.equal(explanation.peakSyncBytes, Math.max(...payload));
      // On the socket: an all-gather is 3 frames, a ring all-reduce of a fragment whose size
      // is a multiple of 4 is 6 frames of equal chunks.
      const frames = bits === 32 ? 6 : 3;
      if (bits === 32) assert.ok(sizes.every((count) => count % 4 === 0));
      const perSync = payload.map((bytes) => bytes + frames * HEADER);
      // Fragment 0 starts after steps 3, 7 and 11, fragment 1 after steps 5 and 9.
      const expectedOuter = 3 * perSync[0]! + 2 * perSync[1]!;
      const memory = await runIn(compiled, { transport: "memory" }, async (result, folder) => {
        const steps = await readStepLines(folder);
        const synced = steps.filter((line) =>
          line.worker === 0 && line.algorithm?.syncedFragment !== undefined
        )
          .map((line) => [line.step, line.algorithm!.syncedFragment, line.algorithm!.syncBytes]);
        // Applied one step after they started; the sync started after step 11 is never applied.
        assert.deepEqual(synced, [
          [4, 0, perSync[0]],
          [6, 1, perSync[1]],
          [8, 0, perSync[0]],
          [10, 1, perSync[1]],
        ]);
        assert.equal(result.summary.peakSyncBytes, Math.max(...perSync));
        return result;
      });
      for (const bytes of memory.summary.bytes) {
        assert.equal(bytes.sent.outer, expectedOuter, `worker ${bytes.worker}`);
        assert.equal(bytes.sent.base, 0, "the fragment syncs replace localSgd's averages");
      }
      const tcp = await runIn(compiled, { transport: "tcp" }, (result) => result);
      assert.deepEqual(tcp.params, memory.params);
      assert.deepEqual(tcp.summary.bytes, memory.summary.bytes);
      assert.ok(memory.summary.final!.bitsPerToken! < 8);
    });
  });
}

Deno.test("streamingDiloco on the transformer resumes bit for bit inside an overlap window", async () => {
  await withTinyText(async (file) => {
    const compiled = plan(file, streamingDiloco({ tau: 4, fragments: 2, overlap: 1, bits: 4 }));
    const parent = await tempRunFolder();
    try {
      const full = await run(compiled, {
        transport: "memory",
        out: join(parent, "full"),
        checkpointEvery: 6,
      });
      // After 6 steps fragment 1's sync (started after step 5) is in flight.
      const resumed = await resume(join(parent, "full"), {
        transport: "memory",
        from: 6,
        out: join(parent, "resumed"),
      });
      assert.deepEqual(resumed.params, full.params);
      assert.deepEqual(
        await deterministicLines(join(parent, "resumed"), true),
        await deterministicLines(join(parent, "full"), true),
      );
      assert.deepEqual(resumed.summary.bytes, full.summary.bytes);
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  });
});
