import assert from "node:assert/strict";
import { allReduce } from "../../dsl/bases/mod.ts";
import { fetchSgd, sketchedSgd } from "../../dsl/compressors/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { makePlan, runWorkers, type Shard } from "../algorithms/_testing.ts";
import { randomStream } from "../random.ts";
import { CountSketchReference } from "./_count_sketch_reference.ts";
import { CountSketch } from "./sketched_sgd.ts";
import { countSketchKernel } from "../kernels/count_sketch_kernels.ts";
import { type KernelRequest, selectKernels } from "../kernels/vector_kernels.ts";

/**
 * `actual` holds the same floats as `expected`, bit for bit (`Object.is`: `−0` is not `+0`),
 * except that any NaN matches any NaN (IEEE leaves the payload of an operation on NaNs open).
 */
function assertSameFloats(
  actual: Float32Array | Float64Array,
  expected: Float32Array | Float64Array,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i]!, expected[i]!];
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) {
      assert.fail(`${what}[${i}]: ${a}, the reference ${e}`);
    }
  }
}

/** Values over many magnitudes, with zeros of both signs, infinities, NaN, subnormals, overflow. */
function awkwardValues(d: number, stream: string): Float32Array {
  const random = randomStream(5, stream, d);
  const special = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 3e38, -3e38];
  return Float32Array.from({ length: d }, () => {
    const draw = random.integer(20);
    if (draw < special.length && random.integer(4) === 0) return special[draw]!;
    return random.normal() * 10 ** (random.integer(13) - 6);
  });
}

const SHAPES: [rows: number, cols: number, d: number][] = [];
for (const rows of [1, 2, 3, 4, 5, 7]) {
  // cols ≥ d (a permutation per row) and cols < d (hashed), narrow and wide slots, odd d.
  for (const [cols, d] of [[1, 9], [7, 1], [7, 1001], [64, 97], [1000, 997], [40_000, 97]]) {
    SHAPES.push([rows, cols!, d!]);
  }
}
// Several blocks of 4096 coordinates, the last not a multiple of four, narrow and wide slots.
SHAPES.push([5, 40_000, 50_001], [3, 32_768, 40_001], [5, 32_769, 40_001], [5, 20_000, 9_001]);

/**
 * Runs `body` with the kernels `request` selected (`selectKernels`, process-wide), then restores
 * the default.
 */
async function withKernels(
  request: KernelRequest,
  body: () => void | Promise<void>,
): Promise<void> {
  selectKernels(request);
  try {
    await body();
  } finally {
    selectKernels("auto");
  }
}

for (const request of ["js", "wasm"] as const) {
  Deno.test(`count sketch: the update (${request}) is the reference's, bit for bit`, async () => {
    await withKernels(request, () => {
      for (const [rows, cols, d] of SHAPES) {
        for (const seed of [0, 0xdeadbeef]) {
          const what = `${request}, ${rows} × ${cols}, d ${d}, seed ${seed}`;
          const current = new CountSketch(rows, cols, d, seed);
          // The kernel takes 16-bit slots; wider sketches stay in JavaScript.
          const expectedKernels = request === "wasm" && cols <= 0x8000 ? "wasm-simd" : "js";
          assert.equal(current.kernels, expectedKernels, `${what}: kernels`);
          const reference = new CountSketchReference(rows, cols, d, seed);
          // A table that already holds counters, then two vectors added in turn.
          const start = awkwardValues(rows * cols, "start").map((value) =>
            Number.isFinite(value) ? value : 1
          );
          const [table, expected] = [start.slice(), start.slice()];
          for (const stream of ["a", "b"]) {
            const values = awkwardValues(d, stream);
            current.accumulate(values, table);
            reference.accumulate(values, expected);
          }
          assertSameFloats(table, expected, what);
        }
      }
    });
  });
}

Deno.test("count sketch: a sketch the kernel cannot hold says why and stays in JavaScript", () => {
  // Slots wider than 16 bits, or more than a 32-bit WebAssembly memory holds (5 · 5·10⁸ · 2 B).
  assert.match(String(countSketchKernel(3, 0x8001, 10)), /32769 columns need 32-bit slots/);
  assert.match(String(countSketchKernel(5, 100, 500_000_000)), /exceed a WebAssembly memory/);
  assert.equal(typeof countSketchKernel(5, 100, 1000), "object");
});

Deno.test("count sketch: the WebAssembly update adds colliding coordinates in index order", async () => {
  // One column: every coordinate of a row meets in one counter, in the lanes of one vector and
  // across vectors, turns of sixteen, the one-at-a-time tail and blocks. A 1 and then 2⁻²⁴s:
  // their float32 sum depends on the order, and with one row the expected sum is folded here in
  // index order with the signs the sketch reports (its estimates of a table holding 1).
  await withKernels("wasm", () => {
    for (const d of [1, 15, 16, 17, 4096, 4097, 8195]) {
      const values = Float32Array.from({ length: d }, (_, j) => j === 0 ? 1 : 2 ** -24);
      const sketch = new CountSketch(1, 1, d, 9);
      assert.equal(sketch.kernels, "wasm-simd");
      const signs = sketch.estimates(Float32Array.of(1));
      let [inOrder, reversed] = [0, 0];
      for (let j = 0; j < d; j++) inOrder = Math.fround(inOrder + signs[j]! * values[j]!);
      for (let j = d - 1; j >= 0; j--) reversed = Math.fround(reversed + signs[j]! * values[j]!);
      if (d >= 4096) assert.notEqual(inOrder, reversed, `d ${d}: the order shows`);
      const table = new Float32Array(1);
      sketch.accumulate(values, table);
      assert.equal(table[0], inOrder, `d ${d}`);
      for (const rows of [2, 5]) {
        const [many, expected] = [new Float32Array(rows), new Float32Array(rows)];
        new CountSketch(rows, 1, d, 9).accumulate(values, many);
        new CountSketchReference(rows, 1, d, 9).accumulate(values, expected);
        assertSameFloats(many, expected, `rows ${rows}, d ${d}`);
      }
    }
  });
});

for (const request of ["js", "wasm"] as const) {
  Deno.test(`count sketch: estimates (${request}; float32 and float64) and cleared buckets are the reference's`, async () => {
    await withKernels(request, () => {
      for (const [rows, cols, d] of SHAPES) {
        const what = `${request}, ${rows} × ${cols}, d ${d}`;
        const current = new CountSketch(rows, cols, d, 7);
        // The kernel has median networks for 3 and 5 rows of 16-bit slots.
        const kernel = request === "wasm" && cols <= 0x8000 && (rows === 3 || rows === 5);
        assert.equal(current.estimatesKernels, kernel ? "wasm-simd" : "js", `${what}: kernels`);
        const reference = new CountSketchReference(rows, cols, d, 7);
        // Counters with the awkward values themselves: medians of NaN, infinities and signed zeros.
        const table = awkwardValues(rows * cols, "table");
        assertSameFloats(current.estimates(table), reference.estimates(table), `${what}, float32`);
        const random = randomStream(6, "float64 table", d);
        const table64 = Float64Array.from(table, (value) => value * (1 + random.uniform() * 1e-9));
        assertSameFloats(
          current.estimates64(table64),
          reference.estimates64(table64),
          `${what}, float64`,
        );
        const coordinates = [0, d - 1, d >>> 1, (d * 7) >>> 3];
        const [cleared, expected] = [table64.slice(), table64.slice()];
        current.clearBuckets(coordinates, cleared);
        reference.clearBuckets(coordinates, expected);
        assertSameFloats(cleared, expected, `${what}, cleared`);
        assert.ok(cleared.some((value, i) => value !== table64[i]), `${what}: buckets cleared`);
      }
    });
  });
}

Deno.test("count sketch: sketches of one shape share their slots and still agree with the reference", () => {
  const [rows, cols, d] = [5, 300, 2001];
  const values = awkwardValues(d, "shared");
  const expected = new Float32Array(rows * cols);
  new CountSketchReference(rows, cols, d, 3).accumulate(values, expected);
  // The second is built from the first's cached slots; another seed or length gets its own.
  for (const [seed, length] of [[3, d], [3, d], [4, d], [3, d - 1]] as const) {
    const table = new Float32Array(rows * cols);
    new CountSketch(rows, cols, length, seed).accumulate(values.subarray(0, length), table);
    const reference = new Float32Array(rows * cols);
    new CountSketchReference(rows, cols, length, seed).accumulate(
      values.subarray(0, length),
      reference,
    );
    assertSameFloats(table, reference, `seed ${seed}, d ${length}`);
    if (seed === 3 && length === d) assertSameFloats(table, expected, "same shape");
  }
});

/**
 * Runs of Sketched SGD and FetchSGD plans on the memory transport (4 workers, 61 parameters, 10
 * steps, sketches with collisions): the FNV-1a hash of every worker's parameters after every
 * step, as float32 bits, recorded with the row-by-row sketch (`_count_sketch_reference.ts`,
 * commit 86472d7) before its loops were tuned.
 */
const RECORDED_RUNS = [
  [
    "sketchedSgd 5 × 13, p2 0",
    sketchedSgd({ k: 6, rows: 5, cols: 13, p2: 0, rho: 0.9 }),
    "1ea09b61",
  ],
  [
    "sketchedSgd 3 × 17, p2 2",
    sketchedSgd({ k: 6, rows: 3, cols: 17, p2: 2, rho: 0.9 }),
    "34bce389",
  ],
  ["fetchSgd 5 × 13", fetchSgd({ k: 6, rows: 5, cols: 13, rho: 0.9 }), "53a30f71"],
  ["fetchSgd 4 × 11", fetchSgd({ k: 6, rows: 4, cols: 11, rho: 0.9 }), "af908a41"],
] as const;

for (const [name, compress, recorded] of RECORDED_RUNS) {
  for (const request of ["js", "wasm"] as const) {
    Deno.test(`a ${name} plan's parameters (${request}) are those of the reference sketch, bit for bit`, async () => {
      // The memory transport runs the workers in this thread, so the selection reaches them.
      await withKernels(request, async () => {
        const dim = 61;
        const random = randomStream(23, "sketch run shards");
        const shards: Shard[] = Array.from({ length: 4 }, () => ({
          A: Array.from({ length: 12 }, () => Array.from({ length: dim }, () => random.normal())),
          b: Array.from({ length: 12 }, () => random.normal()),
        }));
        const x0 = Array.from({ length: dim }, (_, j) => Math.sin(j));
        const plan = makePlan({
          workers: 4,
          optimizer: sgd({ lr: 0.05 }),
          base: allReduce(),
          compress,
          steps: 10,
          dim,
        });
        const { history } = await runWorkers(plan, shards, x0);
        let hash = 0x811c9dc5;
        for (const models of history) {
          for (const model of models) {
            for (const word of new Uint32Array(Float32Array.from(model).buffer)) {
              hash = Math.imul(hash ^ word, 0x01000193) >>> 0;
            }
          }
        }
        assert.equal(hash.toString(16), recorded);
      });
    });
  }
}
