import assert from "node:assert/strict";
import { unpackBits } from "../compressors/_bits.ts";
import { randomStream } from "../random.ts";
import { gossip, localSgd, sgp } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { diloco, streamingDiloco } from "../../dsl/outers/mod.ts";
import type { Plan, StreamingDilocoNode } from "../../dsl/plan.ts";
import { ring } from "../../topologies/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { FRAME_HEADER_BYTES } from "../comm/wire.ts";
import { createTrainingChain, type TrainingChain } from "./chain.ts";
import {
  decodePseudoGradient,
  encodePseudoGradient,
  fragmentCoordinates,
  syncingFragment,
} from "./streaming_diloco.ts";
import {
  assertRowsClose,
  bufferOf,
  lsGradient,
  makePlan,
  type Mat,
  repeat,
  runWorkers,
  type Shard,
  SHARDS_3D,
  type Vec,
  X0_3D,
} from "./_testing.ts";

/** Three variables of one value each: fragment 0 holds coordinates 0 and 2, fragment 1 holds 1. */
const VARIABLES = [1, 1, 1];
const LR = 0.1;

/** The quantizer of §2.4, written out: float32 scale, round half away from zero. */
function quantized(delta: readonly number[], bits: number): number[] {
  const top = 2 ** (bits - 1) - 1;
  const out: number[] = [];
  for (let lo = 0; lo < delta.length; lo += 128) {
    const chunk = delta.slice(lo, lo + 128);
    const scale = Math.fround(Math.max(...chunk.map(Math.abs)) / top);
    for (const value of chunk) {
      const code = scale === 0 ? 0 : Math.sign(value) * Math.round(Math.abs(value) / scale);
      out.push(code * scale);
    }
  }
  return out;
}

/** Which fragment syncs after step k, straight from §2.4's condition. */
function fragmentAt(k: number, tau: number, P: number): number | null {
  for (let p = 0; p < P; p++) {
    if (k + 1 >= tau && (((k + 1 - p * tau / P) % tau) + tau) % tau === 0) return p;
  }
  return null;
}

/**
 * Float64 reference of streamingDiloco over localSgd (period tau, so the base never averages):
 * every step each worker takes a plain SGD step; syncs as in §2.4 with the fragments of
 * {@linkcode VARIABLES}.
 */
function reference(
  node: StreamingDilocoNode,
  shards: readonly Shard[],
  steps: number,
): { history: Mat[]; synced: (number | null)[] } {
  const n = shards.length;
  const coordinates = [[0, 2], [1]].slice(0, node.fragments);
  if (node.fragments === 1) coordinates[0] = [0, 1, 2];
  let X: Mat = repeat(n, X0_3D);
  const theta: Vec = [...X0_3D];
  const m: Vec = [0, 0, 0];
  let pending: { p: number; applyAt: number; delta: Vec } | null = null;
  const history: Mat[] = [];
  const synced: (number | null)[] = [];
  const apply = (p: number, delta: Vec) => {
    coordinates[p]!.forEach((t, i) => {
      m[t] = node.momentum * m[t]! + delta[i]!;
      theta[t] = theta[t]! - node.lr * (node.nesterov ? delta[i]! + node.momentum * m[t]! : m[t]!);
      for (const x of X) {
        x[t] = node.overlap === 0 ? theta[t]! : node.mix * x[t]! + (1 - node.mix) * theta[t]!;
      }
    });
  };
  for (let k = 0; k < steps; k++) {
    X = X.map((x, i) => {
      const { grad } = lsGradient(shards[i]!, x);
      return x.map((value, c) => value - LR * grad[c]!);
    });
    synced.push(null);
    if (pending !== null && pending.applyAt === k) {
      apply(pending.p, pending.delta);
      synced[k] = pending.p;
      pending = null;
    }
    const p = fragmentAt(k, node.tau, node.fragments);
    if (p !== null) {
      const coords = coordinates[p]!;
      const deltas = X.map((x) => coords.map((t) => theta[t]! - x[t]!));
      const sent = node.bits === 32 ? deltas : deltas.map((delta) => quantized(delta, node.bits));
      const delta = coords.map((_, i) => sent.reduce((sum, row) => sum + row[i]!, 0) / n);
      if (node.overlap === 0) {
        apply(p, delta);
        synced[k] = p;
      } else {
        pending = { p, applyAt: k + node.overlap, delta };
      }
    }
    history.push(X.map((x) => [...x]));
  }
  return { history, synced };
}

function planFor(node: StreamingDilocoNode, steps: number): Plan {
  return makePlan({
    workers: 4,
    optimizer: sgd({ lr: LR }),
    base: localSgd({ tau: node.tau }),
    outer: node,
    steps,
    dim: 3,
  });
}

Deno.test("fragmentCoordinates: whole variables, strided; more fragments than variables is refused", () => {
  const fragments = fragmentCoordinates([3, 2, 1, 2], 2);
  assert.deepEqual(fragments.map((f) => [...f]), [[0, 1, 2, 5], [3, 4, 6, 7]]);
  assert.throws(() => fragmentCoordinates([4], 2), /2 fragments: the model has 1 variable/);
  // Balanced, largest first to the emptiest fragment: variable 0 (3) → 0; 1 (2) → 1; 3 (2) → 1
  // (2 < 3); 2 (1) → 0 (3 < 4): here the same fragments as strided.
  const balanced = fragmentCoordinates([3, 2, 1, 2], 2, "balanced");
  assert.deepEqual(balanced.map((f) => [...f]), [[0, 1, 2, 5], [3, 4, 6, 7]]);
  const uneven = fragmentCoordinates([1, 5, 1, 1, 4], 2, "balanced");
  // 5 → 0; 4 → 1; 1 (index 0) → 1 (4 < 5); 1 (index 2) → 0 (5 = 5, the lower); 1 (index 3) → 1.
  assert.deepEqual(uneven.map((f) => [...f]), [[1, 2, 3, 4, 5, 6], [0, 7, 8, 9, 10, 11]]);
});

Deno.test("syncingFragment: §2.4's condition, fragments in turn every tau/P steps", () => {
  for (const [tau, P] of [[4, 2], [6, 3], [5, 1], [8, 8]]) {
    for (let k = 0; k < 40; k++) {
      assert.equal(syncingFragment(k, tau!, P!), fragmentAt(k, tau!, P!), `k ${k}, ${tau}/${P}`);
    }
  }
});

Deno.test("encodePseudoGradient: codes round half away from zero, per chunk of 128 values", () => {
  // Chunk 0: 128 values with max 7 → scale 1, so 2.5 → 3 and −2.5 → −3; chunk 1 all zero.
  const delta = new Float64Array(200);
  delta[0] = 7;
  delta[1] = 2.5;
  delta[2] = -2.5;
  delta[3] = 0.49;
  const code = encodePseudoGradient(delta, 4);
  assert.equal(code.length, 2 * 4 + 100);
  const back = decodePseudoGradient(code, 200, 4);
  assert.deepEqual([...back.slice(0, 4)], [7, 3, -3, 0]);
  assert.ok(back.slice(128).every((value) => value === 0));
  assert.throws(() => decodePseudoGradient(code.slice(1), 200, 4), /has 108 bytes, not 107/);
  // 16 bits: the error is at most half a step of max/32767.
  const fine = Float64Array.from({ length: 300 }, (_, i) => Math.sin(i) * (i % 7));
  const decoded = decodePseudoGradient(encodePseudoGradient(fine, 16), 300, 16);
  fine.forEach((value, i) => assert.ok(Math.abs(decoded[i]! - value) <= 6 / 32767 / 2 + 1e-9));
});

Deno.test("encodePseudoGradient's codes are the spec's formula with Math.round, ties and clamps included", () => {
  // The formula as docs/algorithms.md §2.4 states it, written plainly: per chunk of 128, the
  // float32 scale max|Δ|/top and each code clamp(sign · round(|Δ/s|)) + top, NaN as 0.
  const reference = (delta: Float64Array, bits: number): number[] => {
    const top = 2 ** (bits - 1) - 1;
    const codes: number[] = [];
    for (let lo = 0; lo < delta.length; lo += 128) {
      const chunk = delta.subarray(lo, lo + 128);
      const scale = Math.fround(Math.max(0, ...chunk.map(Math.abs)) / top);
      for (const value of chunk) {
        const ratio = scale === 0 ? 0 : value / scale;
        const code = Math.min(top, Math.max(-top, Math.sign(ratio) * Math.round(Math.abs(ratio))));
        codes.push(Number.isNaN(code) ? 0 : code + top);
      }
    }
    return codes;
  };
  const random = randomStream(3, "pseudo-gradient");
  for (const bits of [2, 3, 4, 8, 12, 16]) {
    const top = 2 ** (bits - 1) - 1;
    // With each chunk's max at `top`, the scale is 1: ratios on exact halves (ties), near them,
    // at −top, zeros of both signs; a zero chunk; a chunk whose scale (max/top, rounded to
    // float32) leaves its max a hair away from `top`; a NaN.
    const delta = Float64Array.from({ length: 700 }, (_, i) => {
      if (i % 128 === 0) return i < 512 ? top : top * 1.37 + 0.1; // the chunk's max
      if (i >= 256 && i < 384) return 0;
      const half = (random.nextUint32() % (2 * top + 1)) - top + 0.5;
      if (i >= 512) return half * 1.37;
      return [half, -half, half + 2 ** -40, half - 2 ** -40, -0, -top][i % 6]!;
    });
    delta[600] = NaN;
    const codes = unpackBits(encodePseudoGradient(delta, bits), bits, 700, 4 * 6);
    assert.deepEqual([...codes], reference(delta, bits), `${bits} bits`);
  }
});

for (const bits of [4, 32]) {
  Deno.test(`streamingDiloco, two fragments, overlap 1, ${bits} bits, matches the float64 reference`, async () => {
    const node = streamingDiloco({ tau: 4, fragments: 2, overlap: 1, bits, mix: 0.25 });
    const steps = 14;
    const expected = reference(node, SHARDS_3D, steps);
    const actual = await runWorkers(planFor(node, steps), SHARDS_3D, X0_3D, {
      variables: VARIABLES,
    });
    for (let k = 0; k < steps; k++) {
      assertRowsClose(actual.history[k]!, expected.history[k]!, 1e-5, `step ${k}`);
    }
    // Fragment 0 starts after steps 3, 7, 11; fragment 1 after 5, 9, 13 (never applied).
    assert.deepEqual(expected.synced, [
      null,
      null,
      null,
      null,
      0,
      null,
      1,
      null,
      0,
      null,
      1,
      null,
      0,
      null,
    ]);
    for (const [rank, lines] of actual.metrics.entries()) {
      assert.deepEqual(lines.map((line) => line.syncedFragment ?? null), expected.synced);
      // Each sync's bytes: 4-bit codes all-gathered to 3 peers (one scale and one code byte per
      // fragment), or a ring all-reduce of the fragment's float32 values.
      for (const [k, line] of lines.entries()) {
        if (expected.synced[k] === null) {
          assert.equal(line.syncBytes, undefined);
          continue;
        }
        if (bits === 4) {
          assert.equal(line.syncBytes, 3 * (FRAME_HEADER_BYTES + 4 + 1), `rank ${rank} step ${k}`);
        } else {
          assert.ok((line.syncBytes as number) > 0);
        }
      }
      // Every outer byte belongs to a reported sync, but the last one (fragment 1 after step
      // 13), which finish() waited for and which sends what fragment 1's syncs send.
      const reported = lines.reduce((sum, line) => sum + ((line.syncBytes as number) ?? 0), 0);
      assert.equal(actual.comms[rank]!.stats().sent.outer - reported, lines[6]!.syncBytes);
    }
    // Nothing from the base: localSgd's averages all coincide with the outer period.
    const sent = actual.comms[0]!.stats().sent;
    assert.equal(sent.base, 0);
    assert.ok(sent.outer > 0);
  });
}

Deno.test("§5.11: streamingDiloco with one fragment, no overlap and 32 bits is diloco, bit for bit", async () => {
  for (const base of [localSgd({ tau: 3 }), gossip(ring), sgp(ring)]) {
    const plan = (outer: Plan["outer"]) =>
      makePlan({ workers: 4, optimizer: sgd({ lr: 0.1 }), base, outer, steps: 13, dim: 3 });
    const plain = await runWorkers(
      plan(diloco({ tau: 3, lr: 0.7, momentum: 0.9 })),
      SHARDS_3D,
      X0_3D,
    );
    const streaming = await runWorkers(
      plan(streamingDiloco({ tau: 3, fragments: 1, lr: 0.7, momentum: 0.9 })),
      SHARDS_3D,
      X0_3D,
      { variables: VARIABLES },
    );
    assert.deepEqual(streaming.history, plain.history, base.kind);
    assert.deepEqual(
      [...bufferOf(streaming.chains[0]!, "streamingDiloco.momentum")],
      [...bufferOf(plain.chains[0]!, "diloco.momentum")],
    );
  }
});

/** Runs `steps` steps of fresh chains from `from`, restoring `saved` first when given. */
async function runChains(
  plan: Plan,
  from: number,
  until: number,
  saved: Map<string, Float32Array | Float64Array>[] | null,
): Promise<{ chains: TrainingChain[]; models: Float32Array[] }> {
  const comms = createMemoryCommunicators(plan.workers);
  const chains = comms.map((comm, rank) =>
    createTrainingChain({
      plan,
      comm,
      x0: Float32Array.from(X0_3D),
      variables: VARIABLES,
      gradient: (params) => {
        const { loss, grad } = lsGradient(SHARDS_3D[rank]!, params);
        return Promise.resolve({ loss, grad: Float32Array.from(grad) });
      },
    })
  );
  if (saved !== null) chains.forEach((chain, rank) => chain.restore(saved[rank]!));
  const models = await Promise.all(chains.map(async (chain) => {
    for (let k = from; k < until; k++) await chain.step(k);
    return chain.model();
  }));
  return { chains, models };
}

Deno.test("streamingDiloco resumes bit for bit through a fragment sync and inside an overlap window", async () => {
  for (const bits of [4, 32]) {
    const node = streamingDiloco({ tau: 4, fragments: 2, overlap: 1, bits });
    const plan = planFor(node, 14);
    const whole = await runChains(plan, 0, 14, null);
    // After 4 steps fragment 0's sync is in flight (started after step 3, applied after 4);
    // after 5 it was just applied; after 6 fragment 1's is in flight.
    for (const cut of [4, 5, 6]) {
      const first = await runChains(plan, 0, cut, null);
      const saved = await Promise.all(
        first.chains.map(async (chain) =>
          new Map((await chain.checkpoint()).map((buffer) => [buffer.name, buffer.data.slice()]))
        ),
      );
      if (cut !== 5) assert.notEqual(saved[0]!.get("streamingDiloco.inFlightFragment")![0], -1);
      const rest = await runChains(plan, cut, 14, saved);
      assert.deepEqual(rest.models, whole.models, `${bits} bits, cut after ${cut} steps`);
    }
  }
});
