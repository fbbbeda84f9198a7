/**
 * The user's own arrays (`tensors()` data) as worker data.
 *
 * Files are chosen by extension: `.npz` and `.safetensors` hold both arrays, named by the node's
 * `features` (default `x`) and `labels` (default `y`); a `.npy` file holds one 2-D array whose
 * last column is the label, or `{ x, y }` names two `.npy` files; a `.csv` file holds numbers,
 * a header row optional, the label in the last column or the header column `labels` names.
 * Features of any shape `[N, …]` are flattened per example; labels have shape `[N]` or `[N, 1]`.
 *
 * Classification labels must be integers `0..classes-1`, where `classes` is the node's or the
 * largest training label + 1; regression targets must be finite. Features must be finite. Every
 * problem is a {@linkcode TensorsFileError} naming the file and, where it is one value, the
 * example (the line, for CSV).
 *
 * Without a test file, `testSize` examples (a count or a fraction) are split off the training
 * file by a seeded permutation (`randomStream(plan.seed, "tensors-split")`): the first `testSize`
 * positions are the test set, the rest the training set. The training set is then partitioned
 * across workers exactly as MNIST is (`partition.ts`, stream `(plan.seed, "partition")`), and
 * mini-batches follow `batches.ts`.
 *
 * The files are read once per process (or Web Worker): the last data set read is kept, so the
 * model factory (which needs the feature and class counts) and each worker's data share it.
 *
 * @module
 */

import type { DataShape } from "../../dsl/kind.ts";
import type { Plan, TensorsNode } from "../../dsl/plan.ts";
import { tensorsFiles, type TensorsSource } from "../../dsl/data/tensors.ts";
import { messageOf } from "../errors.ts";
import { randomStream } from "../random.ts";
import { type RawArray, TensorsFileError, toFloats } from "./arrays.ts";
import { type Examples, selectRows, shardWorkerData } from "./batches.ts";
import { parseCsv } from "./csv.ts";
import { parseNpy } from "./npy.ts";
import { partition } from "./partition.ts";
import { parseSafetensorsArrays } from "./safetensors_arrays.ts";
import type { WorkerData } from "./types.ts";
import { openZip } from "./zip.ts";

export { TensorsFileError } from "./arrays.ts";

/** The extensions read, in the order messages list them. */
const EXTENSIONS = [".npz", ".safetensors", ".npy", ".csv"] as const;
type Extension = typeof EXTENSIONS[number];

/** One file's examples, flattened, with where they came from. */
interface FileExamples extends Examples {
  /** Values per example. */
  readonly features: number;
  /** The file named in messages about the examples (the labels' file for a pair). */
  readonly path: string;
  /** Where example `i` is, in words ("example 3", "line 5"). */
  readonly where: (i: number) => string;
}

/** A data set read from its files, before the train/test split. */
export interface TensorsDataset {
  /** Values per example. */
  readonly features: number;
  /** Classes (1 for regression). */
  readonly classes: number;
  /** The training file's examples. */
  readonly train: Examples;
  /** The test file's examples, or `null` when the test set is split off `train`. */
  readonly test: Examples | null;
}

/** The extension of a path, or an error listing those read. */
function extensionOf(path: string): Extension {
  const found = EXTENSIONS.find((extension) => path.toLowerCase().endsWith(extension));
  if (found === undefined) {
    throw new TensorsFileError(
      path,
      `unknown file extension; expected one of ${EXTENSIONS.join(", ")}`,
    );
  }
  return found;
}

/** A file's bytes. */
async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    throw new TensorsFileError(
      path,
      error instanceof Deno.errors.NotFound ? "file not found" : messageOf(error),
    );
  }
}

/** Runs a format reader, naming the file in what it throws. */
async function inFile<T>(path: string, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof TensorsFileError) throw error;
    throw new TensorsFileError(path, messageOf(error));
  }
}

/** An array by name from a name → array table, or an error listing the names present. */
function named(arrays: ReadonlyMap<string, RawArray>, name: string, path: string): RawArray {
  const array = arrays.get(name);
  if (array === undefined) {
    const present = [...arrays.keys()].map((key) => JSON.stringify(key)).join(", ") || "none";
    throw new TensorsFileError(path, `no array named "${name}" (arrays present: ${present})`);
  }
  return array;
}

/** Float64 values as a raw `f8` array. */
function f8(values: Float64Array, shape: readonly number[]): RawArray {
  return { dtype: "f8", shape, bytes: new Uint8Array(values.buffer) };
}

/** Splits a 2-D table of numbers into features and the label column. */
function splitColumns(
  values: Float64Array,
  rows: number,
  columns: number,
  label: number,
): { x: RawArray; y: RawArray } {
  const x = new Float64Array(rows * (columns - 1));
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let k = r * (columns - 1);
    for (let c = 0; c < columns; c++) {
      if (c === label) y[r] = values[r * columns + c]!;
      else x[k++] = values[r * columns + c]!;
    }
  }
  return { x: f8(x, [rows, columns - 1]), y: f8(y, [rows]) };
}

/** The arrays of a source, before any check of their contents. */
interface SourceArrays {
  readonly x: RawArray;
  readonly y: RawArray;
  readonly xPath: string;
  readonly yPath: string;
  readonly where: (i: number) => string;
}

const byIndex = (i: number) => `example ${i}`;

/** Reads the features and labels a source names. */
async function readSource(source: TensorsSource, node: TensorsNode): Promise<SourceArrays> {
  if (typeof source !== "string") {
    // One after the other, so a problem with both files is always reported for `x` first.
    const readNpy = async (path: string) => {
      if (extensionOf(path) !== ".npy") {
        throw new TensorsFileError(path, "{ x, y } names two .npy files, one array each");
      }
      const bytes = await readBytes(path);
      return inFile(path, () => parseNpy(bytes));
    };
    const x = await readNpy(source.x);
    const y = await readNpy(source.y);
    return { x, y, xPath: source.x, yPath: source.y, where: byIndex };
  }
  const path = source;
  const extension = extensionOf(path);
  const bytes = await readBytes(path);
  const labels = node.labels ?? "y";
  const pick = (arrays: ReadonlyMap<string, RawArray>): SourceArrays => ({
    x: named(arrays, node.features, path),
    y: named(arrays, labels, path),
    xPath: path,
    yPath: path,
    where: byIndex,
  });
  switch (extension) {
    case ".npz": {
      const zip = await inFile(path, () => openZip(bytes));
      const arrays = new Map<string, RawArray>();
      for (const entry of zip.names.filter((name) => name.endsWith(".npy"))) {
        const name = entry.slice(0, -4);
        if (name !== node.features && name !== labels) {
          arrays.set(name, { dtype: "u1", shape: [0], bytes: new Uint8Array() }); // listed only
          continue;
        }
        const data = await inFile(path, () => zip.read(entry));
        arrays.set(
          name,
          await inFile(path, () => {
            try {
              return parseNpy(data);
            } catch (error) {
              throw new Error(`array "${name}": ${messageOf(error)}`);
            }
          }),
        );
      }
      return pick(arrays);
    }
    case ".safetensors":
      return pick(await inFile(path, () => parseSafetensorsArrays(bytes)));
    case ".npy": {
      const array = await inFile(path, () => parseNpy(bytes));
      if (array.shape.length !== 2 || array.shape[1]! < 2) {
        throw new TensorsFileError(
          path,
          `a single .npy file holds one 2-D array, features then the label in the last column, ` +
            `but its shape is (${
              array.shape.join(", ")
            }); use { x: "x.npy", y: "y.npy" } for two arrays`,
        );
      }
      const [rows, columns] = array.shape as [number, number];
      const split = splitColumns(toFloats(array, Float64Array), rows, columns, columns - 1);
      return { ...split, xPath: path, yPath: path, where: byIndex };
    }
    case ".csv": {
      const table = await inFile(path, () => parseCsv(new TextDecoder().decode(bytes)));
      let label = table.columns - 1;
      if (node.labels !== null) {
        label = table.header?.indexOf(node.labels) ?? -1;
        if (label === -1) {
          throw new TensorsFileError(
            path,
            table.header === null
              ? `labels "${node.labels}" names a header column, but the file has no header row`
              : `no column named "${node.labels}" (columns: ${table.header.join(", ")})`,
          );
        }
      }
      if (table.columns < 2) {
        throw new TensorsFileError(
          path,
          "a CSV file needs at least two columns: features and a label",
        );
      }
      const split = splitColumns(table.values, table.rows, table.columns, label);
      return { ...split, xPath: path, yPath: path, where: (i) => `line ${table.lines[i]}` };
    }
  }
}

/** Checks a source's arrays and flattens them into examples. */
function examplesOf(arrays: SourceArrays, node: TensorsNode, classes: number | null): FileExamples {
  const { x, y, xPath, yPath, where } = arrays;
  if (x.shape.length === 0) {
    throw new TensorsFileError(xPath, `the features "${node.features}" are a scalar, not [N, …]`);
  }
  const size = x.shape[0]!;
  if (size === 0) throw new TensorsFileError(xPath, "it holds no examples");
  const labelRows = y.shape[0];
  if (
    labelRows === undefined || y.shape.length > 2 || (y.shape.length === 2 && y.shape[1] !== 1)
  ) {
    throw new TensorsFileError(
      yPath,
      `the labels have shape (${y.shape.join(", ")}) but must be (N,) or (N, 1)`,
    );
  }
  if (labelRows !== size) {
    throw new TensorsFileError(
      yPath,
      `the features have ${size} examples but the labels have ${labelRows}`,
    );
  }
  const features = x.shape.slice(1).reduce((product, d) => product * d, 1);
  if (features === 0) throw new TensorsFileError(xPath, "its examples have no features");
  const values = toFloats(x, Float32Array);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      const example = Math.floor(i / features);
      throw new TensorsFileError(
        xPath,
        `features must be finite numbers, but ${where(example)} has ${values[i]} at feature ${
          i % features
        }`,
      );
    }
  }
  const labels = toFloats(y, Float64Array);
  for (let i = 0; i < size; i++) {
    const label = labels[i]!;
    if (node.task === "regression") {
      if (!Number.isFinite(label)) {
        throw new TensorsFileError(
          yPath,
          `regression targets must be finite, but ${where(i)} has ${label}`,
        );
      }
    } else if (!Number.isInteger(label) || label < 0 || (classes !== null && label >= classes)) {
      const range = classes === null ? "0, 1, 2, …" : `0..${classes - 1}`;
      throw new TensorsFileError(
        yPath,
        `classification labels must be class indices ${range}, but ${where(i)} has ${label}`,
      );
    }
  }
  return {
    x: values,
    y: Float32Array.from(labels),
    size,
    features,
    path: yPath,
    where,
  };
}

/** The last data set read in this process, by its node's file fields and the files' versions. */
let cached: { key: string; dataset: Promise<TensorsDataset> } | null = null;

/** The size and modification time of each file, so a rewritten file is read again. */
async function versions(node: TensorsNode): Promise<string[]> {
  return await Promise.all(
    tensorsFiles(node).map(async (path) => {
      try {
        const info = await Deno.stat(path);
        return `${info.size}:${info.mtime?.getTime()}`;
      } catch {
        return "missing"; // reported when the file is read
      }
    }),
  );
}

/**
 * Reads a `tensors` node's files (once per process: the last data set read is kept).
 *
 * @param node The data node, its paths absolute or relative to the working directory.
 * @returns The training (and test) examples, the feature count and the class count.
 * @throws {TensorsFileError} When a file is missing, of an unknown kind, malformed, lacks the
 *   arrays named, or holds values the task does not accept.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTensors } from "./tensors.ts";
 * import { tensors } from "../../dsl/data/tensors.ts";
 * const file = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(file, "a,b,label\n0,1,0\n1,0,1\n2,2,2\n");
 * const data = await readTensors(tensors({ train: file }));
 * assert.deepEqual([data.features, data.classes, data.train.size], [2, 3, 3]);
 * await Deno.remove(file);
 * ```
 */
export async function readTensors(node: TensorsNode): Promise<TensorsDataset> {
  const { train, test, features, labels, task, classes } = node;
  const files = await versions(node);
  const key = JSON.stringify({ train, test, features, labels, task, classes, files });
  if (cached?.key !== key) {
    const dataset = readDataset(node);
    cached = { key, dataset };
    dataset.catch(() => {
      if (cached?.dataset === dataset) cached = null;
    });
  }
  return await cached.dataset;
}

/** Reads and checks the train and test sources. */
async function readDataset(node: TensorsNode): Promise<TensorsDataset> {
  const trainArrays = await readSource(node.train, node);
  const train = examplesOf(trainArrays, node, node.classes);
  let classes = 1;
  if (node.task === "classification") {
    classes = node.classes ?? train.y.reduce((max, label) => Math.max(max, label), 0) + 1;
    if (classes < 2) {
      throw new TensorsFileError(
        train.path,
        "classification needs at least 2 classes, but every training label is 0 " +
          '(give classes, or task: "regression")',
      );
    }
  }
  if (node.test === null) return { features: train.features, classes, train, test: null };
  const test = examplesOf(await readSource(node.test, node), node, classes);
  if (test.features !== train.features) {
    throw new TensorsFileError(
      test.path,
      `its examples have ${test.features} features but the training file's have ${train.features}`,
    );
  }
  return { features: train.features, classes, train, test };
}

/**
 * The shape of a `tensors` node's data, read from its files: what the model factory needs to
 * build a model on it (the DSL knows neither the feature count nor, without `classes`, the
 * class count).
 *
 * @param node The data node.
 * @returns Task, features and classes; no image shape.
 * @throws {TensorsFileError} When the files cannot be read (see {@linkcode readTensors}).
 */
export async function tensorsShape(node: TensorsNode): Promise<DataShape> {
  const { features, classes } = await readTensors(node);
  return { task: node.task, features, classes, image: null };
}

/**
 * The train and test examples of a `tensors` data set for a plan seed: the test file's, or
 * `testSize` examples split off the training file (see the module notes).
 *
 * @param node The data node.
 * @param dataset Its files' contents.
 * @param seed The plan seed.
 * @returns The training and test examples.
 * @throws {TensorsFileError} When `testSize` leaves no training example.
 */
export function splitTensors(
  node: TensorsNode,
  dataset: TensorsDataset,
  seed: number,
): { train: Examples; test: Examples } {
  if (dataset.test !== null) return { train: dataset.train, test: dataset.test };
  const total = dataset.train.size;
  const fraction = node.testSize ?? 0.2;
  const count = fraction < 1 ? Math.max(1, Math.round(fraction * total)) : fraction;
  if (count >= total) {
    throw new TensorsFileError(
      typeof node.train === "string" ? node.train : node.train.y,
      `testSize ${fraction} takes ${count} of its ${total} examples, leaving none to train on`,
    );
  }
  const order = randomStream(seed, "tensors-split").permutation(total);
  return {
    test: selectRows(dataset.train, order.subarray(0, count)),
    train: selectRows(dataset.train, order.subarray(count)),
  };
}

/**
 * Worker `rank`'s data for a plan on `tensors` data: its partition shard of the training set,
 * and the test set.
 *
 * @param node The plan's data node.
 * @param plan The plan (seed and workers).
 * @param rank The worker.
 * @returns The worker's data.
 * @throws {TensorsFileError} When the files cannot be read or split.
 * @throws {RangeError} When the partition cannot split the training set as asked.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadTensorsData } from "./tensors.ts";
 * import { allReduce, mlp, sgd, tensors, train } from "../../mod.ts";
 * const file = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(file, Array.from({ length: 10 }, (_, i) => `${i},${i % 2}`).join("\n"));
 * const plan = train(mlp({ hidden: [2] })).data(tensors({ train: file, testSize: 2 }))
 *   .workers(2).optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
 * const data = await loadTensorsData(plan.data as never, plan, 1);
 * assert.ok(data.shardSize === 4 && data.test.size === 2);
 * await Deno.remove(file);
 * ```
 */
export async function loadTensorsData(
  node: TensorsNode,
  plan: Plan,
  rank: number,
): Promise<WorkerData> {
  const dataset = await readTensors(node);
  const { train, test } = splitTensors(node, dataset, plan.seed);
  if (train.size < plan.workers) {
    throw new TensorsFileError(
      typeof node.train === "string" ? node.train : node.train.y,
      `${train.size} training examples cannot be shared by ${plan.workers} workers`,
    );
  }
  const shards = partition(
    node.partition,
    train.y,
    { workers: plan.workers, classes: dataset.classes },
    randomStream(plan.seed, "partition"),
  );
  return shardWorkerData({
    train: selectRows(train, shards[rank]!),
    test,
    batchSize: node.batchSize,
    seed: plan.seed,
    rank,
  });
}
