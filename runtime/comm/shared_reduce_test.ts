import assert from "node:assert/strict";
import { createMemoryCommunicators } from "./memory_transport.ts";
import { createSharedArena, SharedReducer } from "./shared_reduce.ts";
import { randomStream } from "../random.ts";
import { selectKernels } from "../kernels/vector_kernels.ts";
import { ringOrderSum } from "./_ring_order.ts";

/** Every rank's vector of `d` values, drawn so that float32 sums depend on their order. */
function vectors(n: number, d: number, seed: number): Float32Array[] {
  return Array.from({ length: n }, (_, rank) => {
    const random = randomStream(seed, "shared", rank);
    return Float32Array.from({ length: d }, () => random.normal() * 10 ** (rank % 4));
  });
}

/** The ring all-reduce's sums over the memory transport. */
async function ringSums(inputs: Float32Array[]): Promise<Float32Array[]> {
  const comms = createMemoryCommunicators(inputs.length);
  return await Promise.all(comms.map((comm, rank) => comm.allReduceSum(inputs[rank]!, "base")));
}

/** The shared-memory sums, every rank in this thread. */
async function sharedSums(inputs: Float32Array[], slotFloats: number): Promise<Float32Array[]> {
  const arena = createSharedArena(inputs.length, slotFloats);
  const reducers = inputs.map((_, rank) => new SharedReducer(arena, rank));
  try {
    return await Promise.all(
      reducers.map((reducer, rank) => reducer.sumInPlace(inputs[rank]!.slice())),
    );
  } finally {
    for (const reducer of reducers) reducer.close();
  }
}

Deno.test("shared-memory sums are bit-identical to the ring's, for every size and group", async () => {
  for (const n of [1, 2, 3, 4, 5]) {
    for (const d of [1, 2, 3, 7, 64, 1001]) {
      for (const slotFloats of [5, 64, 4096]) {
        const inputs = vectors(n, d, 31 * n + d);
        const expected = await ringSums(inputs.map((input) => input.slice()));
        const got = await sharedSums(inputs, slotFloats);
        for (let rank = 0; rank < n; rank++) {
          assert.deepEqual(got[rank], expected[rank], `n ${n}, d ${d}, slot ${slotFloats}`);
        }
      }
    }
  }
});

/** Every rank in a Web Worker of its own: the barriers block, as in thread launches. */
async function threadSums(inputs: Float32Array[][], slotFloats: number): Promise<unknown[][]> {
  const n = inputs[0]!.length;
  const arena = createSharedArena(n, slotFloats);
  const workers = Array.from(
    { length: n },
    () => new Worker(new URL("./_test_shared_worker.ts", import.meta.url), { type: "module" }),
  );
  const replies = workers.map((worker) => {
    const queue: unknown[] = [];
    const waiting: ((value: unknown) => void)[] = [];
    worker.onmessage = (event) => {
      const resolve = waiting.shift();
      if (resolve) resolve(event.data);
      else queue.push(event.data);
    };
    return () =>
      queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r));
  });
  try {
    workers.forEach((worker, rank) => worker.postMessage({ arena, rank }));
    assert.deepEqual(await Promise.all(replies.map((next) => next())), workers.map(() => "ready"));
    const results: unknown[][] = [];
    for (const call of inputs) {
      workers.forEach((worker, rank) => worker.postMessage(call[rank]!));
      results.push(await Promise.all(replies.map((next) => next())));
    }
    return results;
  } finally {
    for (const worker of workers) worker.terminate();
  }
}

Deno.test("ranks in threads of their own: calls in a row, many pieces, bit-identical to the ring's", async () => {
  // Odd and even numbers of pieces, a last piece shorter than a slot, and a call of one piece.
  const lengths = [5000, 6 * 64, 37];
  for (const n of [2, 3]) {
    const inputs = lengths.map((d, call) => vectors(n, d, 97 * n + call));
    const expected = await Promise.all(inputs.map((each) => ringSums(each.map((v) => v.slice()))));
    const got = await threadSums(inputs, 64);
    for (let call = 0; call < lengths.length; call++) {
      for (let rank = 0; rank < n; rank++) {
        assert.deepEqual(got[call]![rank], expected[call]![rank], `n ${n}, call ${call}`);
      }
    }
  }
});

Deno.test("the vector kernels sum the arena in place, bit-identical to the JavaScript loops", async () => {
  // Zeros of both signs, subnormals, overflow, infinities and NaN among ordinary values.
  const special = [0, -0, 1e-45, -1e-40, 3e38, -3e38, Infinity, -Infinity, NaN];
  const withSpecials = (inputs: Float32Array[]) =>
    inputs.map((input, rank) =>
      input.map((v, i) => (i * 7 + rank) % 5 === 0 ? special[i % 9]! : v)
    );
  try {
    for (const n of [2, 3, 4]) {
      for (const d of [5, 67, 1001]) {
        const inputs = withSpecials(vectors(n, d, 7 * n + d));
        const expected = new Uint32Array(ringOrderSum(inputs).buffer);
        for (const kernels of ["wasm", "js"] as const) {
          selectKernels(kernels);
          assert.equal(createSharedArena(n, 64).memory !== undefined, kernels === "wasm");
          for (const slotFloats of [7, 64]) {
            const got = await sharedSums(inputs, slotFloats);
            for (let rank = 0; rank < n; rank++) {
              const bits = new Uint32Array(got[rank]!.buffer);
              assert.deepEqual(bits, expected, `${kernels}: n ${n}, d ${d}, slot ${slotFloats}`);
            }
          }
        }
      }
    }
  } finally {
    selectKernels("auto");
  }
});

Deno.test("calls made back to back keep their order, and a group of one returns its input", async () => {
  const arena = createSharedArena(2, 16);
  const reducers = [new SharedReducer(arena, 0), new SharedReducer(arena, 1)];
  try {
    const results = await Promise.all(reducers.map(async (reducer, rank) => {
      const first = reducer.sumInPlace(Float32Array.of(rank, 1));
      const second = reducer.sumInPlace(Float32Array.of(10 * rank, 2));
      return [[...await first], [...await second]];
    }));
    assert.deepEqual(results[0], [[1, 2], [10, 4]]);
    assert.deepEqual(results[1], results[0]);
  } finally {
    for (const reducer of reducers) reducer.close();
  }
  const alone = new SharedReducer(createSharedArena(1, 4), 0);
  assert.deepEqual([...await alone.sumInPlace(Float32Array.of(3))], [3]);
  alone.close();
});

Deno.test("a rank that never arrives and stops ticking is named, not waited for forever", async () => {
  const arena = createSharedArena(3, 8);
  const live = [
    new SharedReducer(arena, 0, { timeoutMs: 300 }),
    new SharedReducer(arena, 1, { timeoutMs: 300 }),
  ];
  // Rank 2 joins, ticks once, and dies before the all-reduce.
  new SharedReducer(arena, 2, { timeoutMs: 300 }).close();
  try {
    const results = await Promise.allSettled(
      live.map((reducer) => reducer.sumInPlace(Float32Array.of(1))),
    );
    for (const result of results) {
      assert.equal(result.status, "rejected");
      assert.match(
        String((result as PromiseRejectedResult).reason),
        /Worker 2 stopped answering in a shared-memory all-reduce/,
      );
    }
  } finally {
    for (const reducer of live) reducer.close();
  }
});
