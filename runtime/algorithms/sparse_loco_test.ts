import assert from "node:assert/strict";
import { gossip, localSgd } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { OUTER_KINDS, sparseLoco, sparseLocoCodeBytes } from "../../dsl/outers/mod.ts";
import { ring } from "../../topologies/mod.ts";
import { FRAME_HEADER_BYTES } from "../comm/wire.ts";
import { randomStream } from "../random.ts";
import { sparseLocoCodec } from "./sparse_loco.ts";
import {
  assertClose,
  assertRowsClose,
  bufferOf,
  lsGradient,
  makePlan,
  type Mat,
  runWorkers,
  type Shard,
  type Vec,
} from "./_testing.ts";

// The float64 reference of §2.5, written from docs/algorithms.md, not from the runtime code.

/** What one worker sends: a sparse vector, kept values dequantized. */
function referenceCompress(
  e: Vec,
  settings: { chunk: number; k: number; bits: number },
): Map<number, number> {
  const { chunk, k, bits } = settings;
  const sent = new Map<number, number>();
  for (let start = 0; start < e.length; start += chunk) {
    const positions = [];
    for (let t = start; t < Math.min(e.length, start + chunk); t++) positions.push(t);
    // Largest magnitude first, the lower index first among equals.
    positions.sort((a, b) => Math.abs(e[b]!) - Math.abs(e[a]!) || a - b);
    const kept = positions.slice(0, k);
    const M = Math.fround(Math.max(...kept.map((t) => Math.abs(e[t]!))));
    for (const t of kept) {
      const value = e[t]!;
      if (bits === 32) {
        sent.set(t, Math.fround(value));
        continue;
      }
      // Every level, by brute force: nearest, then smaller magnitude, then the higher level.
      const top = 2 ** bits - 1;
      let best = { level: NaN, distance: Infinity };
      for (let l = 0; l <= top; l++) {
        // −M + 2M·l/top, written so that levels l and top − l are exact negatives.
        const level = M * (2 * l - top) / top;
        const distance = Math.abs(value - level);
        if (
          distance < best.distance ||
          (distance === best.distance && Math.abs(level) <= Math.abs(best.level))
        ) {
          best = { level, distance };
        }
      }
      sent.set(t, best.level);
    }
  }
  return sent;
}

/** `n` shards of 4 rows in `d` dimensions, deterministic and different per worker. */
function shards(n: number, d: number): Shard[] {
  return Array.from({ length: n }, (_, i) => ({
    A: Array.from(
      { length: 4 },
      (_, r) => Array.from({ length: d }, (_, c) => Math.sin(1.7 * c + 3.1 * r + 5.3 * i)),
    ),
    b: Array.from({ length: 4 }, (_, r) => Math.cos(2.3 * r + i)),
  }));
}

const fround = Math.fround;

for (
  const { n, lr, beta } of [
    { n: 2, lr: 1, beta: 0.95 },
    { n: 3, lr: 0.8, beta: 0.95 },
    { n: 4, lr: 1, beta: 0.5 },
  ]
) {
  Deno.test(`sparseLoco on ${n} workers (k 3 of chunks of 4, 2 bits, beta ${beta}, lr ${lr}) follows the float64 reference`, async () => {
    const [d, tau, steps, innerLr] = [10, 3, 12, 0.05];
    const settings = { chunk: 4, k: 3, bits: 2 };
    const node = sparseLoco({ tau, ...settings, beta, lr });
    const plan = makePlan({
      workers: n,
      optimizer: sgd({ lr: innerLr }),
      base: localSgd({ tau }),
      outer: node,
      steps,
      dim: d,
    });
    const data = shards(n, d);
    const x0 = Array.from({ length: d }, (_, t) => fround(0.1 * (t - 4)));
    const { history, chains, metrics, comms } = await runWorkers(plan, data, x0);
    // The model is float32: every stored value is rounded once, as the runtime's contract says.
    let X: Mat = Array.from({ length: n }, () => [...x0]);
    let theta: Vec = [...x0];
    const E: Mat = Array.from({ length: n }, () => new Array<number>(d).fill(0));
    let dropped = 0;
    for (let k = 0; k < steps; k++) {
      X = X.map((x, i) => {
        const g = lsGradient(data[i]!, x).grad.map(fround);
        return x.map((value, t) => fround(value - innerLr * g[t]!));
      });
      if ((k + 1) % tau === 0) {
        const sum = new Array<number>(d).fill(0);
        for (let i = 0; i < n; i++) {
          const e = E[i]!;
          for (let t = 0; t < d; t++) e[t] = beta * e[t]! + (theta[t]! - X[i]![t]!);
          const sent = referenceCompress(e, settings);
          assert.equal(sent.size, 3 + 3 + 2, "k per chunk, and both values of the short chunk");
          for (const [t, value] of sent) {
            e[t]! -= value;
            sum[t]! += value;
          }
        }
        dropped += sum.filter((value) => value === 0).length;
        theta = theta.map((value, t) => value - lr * (sum[t]! / n));
        X = X.map(() => theta.map(fround));
        for (let i = 0; i < n; i++) {
          // The buffers are live: after the run they hold the last sync's state.
          if (k === steps - 1) {
            assertClose(bufferOf(chains[i]!, "sparseLoco.error"), E[i]!, 1e-9, `e_${i}`);
          }
          const norm = Math.hypot(...E[i]!);
          assert.ok(norm > 0, "quantization and sparsity leave a residual");
          assert.ok(Math.abs(metrics[i]![k]!.outerResidualNorm as number - norm) <= 1e-9 * norm);
          assert.equal(metrics[i]![k]!.syncBytes, (n - 1) * sparseLocoCodeBytes(node, d));
        }
        if (k === steps - 1) {
          for (const chain of chains) {
            assertClose(bufferOf(chain, "sparseLoco.global"), theta, 1e-9, "θ");
          }
        }
      } else {
        for (let i = 0; i < n; i++) assert.deepEqual(metrics[i]![k], {}, "no sync, no metrics");
      }
      assertRowsClose(history[k]!, X, 1e-7, `step ${k}`);
    }
    if (n === 2) assert.ok(dropped > 0, "some coordinates were sent by no worker");
    // Bytes: one all-gather of the code per sync, (n − 1) frames each, as the trait predicts.
    const code = 3 * 4 + Math.ceil(8 * 2 / 8) + Math.ceil(8 * 2 / 8);
    assert.equal(sparseLocoCodeBytes(node, d), code);
    const syncs = steps / tau;
    const predicted = OUTER_KINDS.sparseLoco.traffic(node, d, n, [d]) * steps;
    assert.equal(predicted, syncs * (n - 1) * code);
    for (const comm of comms) {
      const { sent, received } = comm.stats();
      assert.equal(sent.outer, predicted + syncs * (n - 1) * FRAME_HEADER_BYTES);
      assert.equal(received.outer, sent.outer);
      assert.equal(sent.base, 0, "localSgd's own averages coincide with the outer step");
    }
  });
}

Deno.test("§5.12: sparseLoco with k = chunk, 32 bits, beta 0, lr 1 equals local SGD with the same tau", async () => {
  const [n, d, tau, steps] = [4, 10, 3, 12];
  const data = shards(n, d);
  const x0 = Array.from({ length: d }, (_, t) => 0.05 * t);
  const common = { workers: n, optimizer: sgd({ lr: 0.05, momentum: 0.5 }), steps, dim: d };
  const plain = await runWorkers(makePlan({ ...common, base: localSgd({ tau }) }), data, x0);
  const outer = await runWorkers(
    makePlan({
      ...common,
      base: localSgd({ tau }),
      outer: sparseLoco({ tau, k: 4, chunk: 4, bits: 32, beta: 0, lr: 1 }),
    }),
    data,
    x0,
  );
  for (let k = 0; k < steps; k++) {
    for (let i = 0; i < n; i++) {
      const expected = plain.history[k]![i]!;
      const actual = outer.history[k]![i]!;
      for (let t = 0; t < d; t++) {
        const scale = Math.max(Math.abs(expected[t]!), 1e-12);
        assert.ok(
          Math.abs(actual[t]! - expected[t]!) <= 1e-6 * scale,
          `step ${k} worker ${i} [${t}]: ${actual[t]} vs ${expected[t]}`,
        );
      }
    }
  }
  assert.notDeepEqual([...plain.models[0]!], x0, "training moved the model");
});

Deno.test("sparseLoco over gossip restarts every worker from the shared θ", async () => {
  const [n, d] = [4, 6];
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr: 0.1 }),
    base: gossip(ring),
    outer: sparseLoco({ tau: 2, k: 2, chunk: 3, bits: 4 }),
    steps: 4,
    dim: d,
  });
  const { history, chains } = await runWorkers(plan, shards(n, d), new Array(d).fill(0.2));
  for (const k of [1, 3]) {
    const theta = Float32Array.from(bufferOf(chains[0]!, "sparseLoco.global"));
    if (k === 3) { for (const model of history[k]!) assert.deepEqual(model, theta); }
    for (const model of history[k]!) assert.deepEqual(model, history[k]![0]);
  }
  assert.notDeepEqual(history[0]![0], history[0]![1], "gossip leaves the models apart between");
});

Deno.test("sparseLoco codec: decodes to the reference's sparse quantized vector, in the predicted bytes", () => {
  const random = randomStream(3, "sparseLoco codec");
  for (
    const settings of [
      { chunk: 4, k: 3, bits: 2 },
      { chunk: 5, k: 2, bits: 1 },
      { chunk: 3, k: 3, bits: 8 },
      { chunk: 7, k: 1, bits: 3 },
      { chunk: 4, k: 2, bits: 32 },
      { chunk: 64, k: 5, bits: 2 },
    ]
  ) {
    for (const d of [1, 9, 23]) {
      // Small integers make ties in magnitude and exact halfway values likely.
      const values = Array.from({ length: d }, () => (random.integer(9) - 4) / 2);
      const codec = sparseLocoCodec(settings, d);
      const code = codec.encode(Float64Array.from(values));
      // By hand: float32 scales (or values), then indices, then levels.
      const chunks = Math.ceil(d / settings.chunk);
      const kept = Math.floor(d / settings.chunk) * settings.k +
        Math.min(settings.k, d % settings.chunk);
      const width = Math.ceil(Math.log2(settings.chunk));
      const expectedBytes = settings.bits === 32
        ? 4 * kept + Math.ceil(kept * width / 8)
        : 4 * chunks + Math.ceil(kept * width / 8) + Math.ceil(kept * settings.bits / 8);
      const label = `${JSON.stringify(settings)} d ${d}`;
      assert.equal(code.length, expectedBytes, label);
      assert.equal(codec.codeBytes, sparseLocoCodeBytes(settings, d), label);
      const decoded = new Float64Array(d);
      codec.addDecoded(code, decoded);
      const expected = new Array<number>(d).fill(0);
      for (const [t, value] of referenceCompress(values, settings)) expected[t] = value;
      assertClose(decoded, expected, 1e-15, label);
    }
  }
});

Deno.test("sparseLoco codec: levels by hand, ties toward zero, and malformed codes refused", () => {
  const codec = sparseLocoCodec({ chunk: 8, k: 4, bits: 2 }, 16);
  // First chunk: kept 3, −2, 1, 2 (the 1 at index 3 beats the equal 1 and −1 at 6 and 7).
  // M = 3, levels −3, −1, 1, 3: 3 → 3; −2 → −1 (halfway: toward zero); 1 → 1; 2 → 1 (same).
  // Second chunk: 4 and the zeros at 8, 9, 11 (lower indices first among equal magnitudes);
  // M = 4, levels ±4, ±4/3: a kept 0 is halfway between −4/3 and 4/3 and takes the higher level.
  const values = Float64Array.of(3, -2, 0, 1, 2, 0.5, 1, -1, 0, 0, 4, 0, 0, 0, 0, 0);
  const decoded = new Float64Array(16);
  const code = codec.encode(values);
  codec.addDecoded(code, decoded);
  const third = 4 / 3;
  assert.deepEqual([...decoded], [3, -1, 0, 1, 1, 0, 0, 0, third, third, 4, third, 0, 0, 0, 0]);
  // Two float32 scales, eight 3-bit indices, eight 2-bit levels.
  assert.equal(code.length, 2 * 4 + 3 + 2);
  // The same at 32 bits keeps the values, rounded to float32.
  const raw = sparseLocoCodec({ chunk: 8, k: 5, bits: 32 }, 8);
  const exact = new Float64Array(8);
  raw.addDecoded(raw.encode(Float64Array.of(0.1, 0, 0, 0, 0, 0, 0, 0)), exact);
  assert.equal(exact[0], Math.fround(0.1));
  assert.throws(
    () => codec.addDecoded(new Uint8Array(3), new Float64Array(16)),
    /sparseLoco code of 3 bytes: expected/,
  );
  // Indices out of order: set the packed index bytes to all ones (index 7 again and again).
  const bad = code.slice();
  bad.fill(0xff, 8, 11);
  assert.throws(() => codec.addDecoded(bad, new Float64Array(16)), /out of order/);
});
