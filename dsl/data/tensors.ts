/**
 * `tensors()`: the user's own arrays, read from `.npz`, `.safetensors`, `.npy` or CSV files.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { toPath } from "../_paths.ts";
import { integer, nonEmpty } from "../fields.ts";
import {
  buildNode,
  type DataDefinition,
  type NodeIssue,
  type OptionNames,
  type OptionProblem,
} from "../kind.ts";
import {
  byLabelClassIssues,
  partitionFromOptions,
  type PartitionNode,
  type PartitionOptions,
  partitionSchema,
} from "./partition.ts";

/**
 * Where a set of examples is stored: one file (`.npz`, `.safetensors`, `.npy` or `.csv`), or a
 * pair of `.npy` files, one holding the features and one the labels.
 */
export type TensorsSource = string | { readonly x: string; readonly y: string };

/** A file path or `file:` URL, as the options accept it. */
export type TensorsLocation = string | URL;

/** The user's own arrays: features and labels read from files when the plan runs. */
export interface TensorsNode {
  /** Node kind, named after the DSL factory `tensors()`. */
  readonly kind: "tensors";
  /** The training examples. */
  readonly train: TensorsSource;
  /** The held-out examples; `null` splits `testSize` examples off the training file. */
  readonly test: TensorsSource | null;
  /** The features' array name in `.npz` and `.safetensors` files. */
  readonly features: string;
  /**
   * The labels' array name in `.npz` and `.safetensors` files ("y" when `null`), or the label
   * column's header in a CSV file (the last column when `null`).
   */
  readonly labels: string | null;
  /** `"classification"` (integer class labels) or `"regression"` (one real target). */
  readonly task: "classification" | "regression";
  /** Classes; `null` takes the largest training label + 1 (1 for regression). */
  readonly classes: number | null;
  /** How the training examples are split across workers. */
  readonly partition: PartitionNode;
  /**
   * Without a test file: the examples split off for testing, a count (≥ 1) or a fraction in
   * (0, 1); `null` with a test file.
   */
  readonly testSize: number | null;
  /** Mini-batch size per worker and step. */
  readonly batchSize: number;
}

/** Options of {@linkcode tensors}. */
export type TensorsOptions = {
  /**
   * The training examples: a `.npz`, `.safetensors`, `.npy` or `.csv` file, or `{ x, y }`, two
   * `.npy` files. Paths are relative to the pipeline file (or plan file) they are written in.
   */
  readonly train: TensorsLocation | { readonly x: TensorsLocation; readonly y: TensorsLocation };
  /** Held-out examples in the same form; without it `testSize` examples are split off `train`. */
  readonly test?: TensorsLocation | { readonly x: TensorsLocation; readonly y: TensorsLocation };
  /** The features' array name in `.npz` and `.safetensors` files (default `"x"`). */
  readonly features?: string;
  /**
   * The labels' array name in `.npz` and `.safetensors` files (default `"y"`), or the label
   * column's header in a CSV file (default the last column).
   */
  readonly labels?: string;
  /** `"classification"` (default) or `"regression"`. */
  readonly task?: "classification" | "regression";
  /** Classes (classification); by default the largest training label + 1. */
  readonly classes?: number;
  /** Without `test`: a count, or a fraction in (0, 1) of `train` (default 0.2). */
  readonly testSize?: number;
  /** Mini-batch size per worker and step (default 32). */
  readonly batchSize?: number;
} & PartitionOptions;

const OPTIONS: OptionNames<
  Omit<TensorsOptions, keyof PartitionOptions> & { partition?: unknown }
> = {
  train: true,
  test: true,
  features: true,
  labels: true,
  task: true,
  classes: true,
  testSize: true,
  batchSize: true,
  partition: true,
};

/** The default share of the training file held out when no test file is given. */
const DEFAULT_TEST_FRACTION = 0.2;

/** A source as stored in the node: paths, `file:` URLs turned into paths. */
function source(
  location: TensorsLocation | { readonly x: TensorsLocation; readonly y: TensorsLocation },
): TensorsSource {
  if (typeof location === "string" || location instanceof URL) return toPath(location);
  return { x: toPath(location.x), y: toPath(location.y) };
}

/**
 * The user's own arrays: features `x` of any shape `[N, …]` (flattened per example) and labels
 * `y` of shape `[N]`, read when the plan runs. `.npz` and `.safetensors` files hold both, named
 * by `features` and `labels`; a `.npy` file holds one 2-D array whose last column is the label
 * (or `{ x: "x.npy", y: "y.npy" }` gives two files); a CSV file holds numbers, a header row
 * optional, the label in the last column or the one `labels` names.
 *
 * @param options The files, array names, task, partition and sizes.
 * @returns A `tensors` data node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensors } from "./tensors.ts";
 * const data = tensors({ train: "data.npz", partition: "dirichlet", alpha: 0.3 });
 * assert.ok(data.features === "x" && data.testSize === 0.2 && data.partition.kind === "dirichlet");
 * ```
 */
export function tensors(options: TensorsOptions): TensorsNode {
  const partition = partitionFromOptions(options);
  const task = options.task ?? "classification";
  const problems: OptionProblem[] = [...partition.problems];
  if (options.test !== undefined && options.testSize !== undefined) {
    problems.push({
      path: "testSize",
      message: "testSize splits the training file, but a test file is given",
      expected: "a test file or a testSize, not both",
      received: JSON.stringify(options.testSize),
    });
  }
  if (task === "regression" && options.classes !== undefined) {
    problems.push({
      path: "classes",
      message: "classes applies to classification only; regression has one real target",
      expected: 'task "classification", or no classes',
      received: JSON.stringify(options.classes),
    });
  }
  return buildNode(
    {
      kind: "tensors",
      train: source(options.train),
      test: options.test === undefined ? null : source(options.test),
      features: options.features ?? "x",
      labels: options.labels ?? null,
      task,
      classes: task === "regression" ? null : options.classes ?? null,
      partition: partition.node,
      testSize: options.test === undefined ? options.testSize ?? DEFAULT_TEST_FRACTION : null,
      batchSize: options.batchSize ?? 32,
    },
    options,
    { ...OPTIONS, ...Object.fromEntries(partition.names.map((name) => [name, true])) },
    problems,
  );
}

/**
 * The files a `tensors` node reads: the training file(s), then the test file(s).
 *
 * @param node A `tensors` node.
 * @returns Their paths, as stored in the node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensors, tensorsFiles } from "./tensors.ts";
 * const node = tensors({ train: { x: "x.npy", y: "y.npy" }, test: "test.csv" });
 * assert.deepEqual(tensorsFiles(node), ["x.npy", "y.npy", "test.csv"]);
 * ```
 */
export function tensorsFiles(node: TensorsNode): string[] {
  return [node.train, ...(node.test === null ? [] : [node.test])].flatMap((at) =>
    typeof at === "string" ? [at] : [at.x, at.y]
  );
}

const sourceSchema = v.union([nonEmpty, v.strictObject({ x: nonEmpty, y: nonEmpty })]);

/** A test size: a whole count, or a fraction strictly between 0 and 1. */
const testSizeSchema = v.pipe(
  v.number(),
  v.check(
    (n) => (Number.isSafeInteger(n) && n >= 1) || (n > 0 && n < 1),
    "must be a count (a whole number ≥ 1) or a fraction in (0, 1)",
  ),
);

/** Everything the plan layer knows about `tensors`. */
export const tensorsKind: DataDefinition<TensorsNode> = {
  schema: v.strictObject({
    kind: v.literal("tensors"),
    train: sourceSchema,
    test: v.nullable(sourceSchema),
    features: nonEmpty,
    labels: v.nullable(nonEmpty),
    task: v.picklist(["classification", "regression"]),
    classes: v.nullable(integer(2)),
    partition: partitionSchema,
    testSize: v.nullable(testSizeSchema),
    batchSize: integer(1),
  }),
  // The partition node is flat in the options, as mnist's; absent fields are left out.
  form: {
    make: tensors,
    required: ["train"],
    context: ["partition", "task", "test"],
    options: ({ kind: _, partition: { kind, ...split }, ...rest }: TensorsNode) =>
      Object.fromEntries(
        Object.entries({ partition: kind, ...split, ...rest }).filter(([, value]) =>
          value !== null
        ),
      ),
  },
  // The feature count (and, without `classes`, the class count) is known once the files are read.
  shape: (node) => ({
    task: node.task,
    features: null,
    classes: node.task === "regression" ? 1 : node.classes,
    image: null,
  }),
  check: (node, { data }) => {
    const issues: NodeIssue[] = [];
    if (node.task === "regression" && node.partition.kind !== "iid") {
      issues.push({
        path: "partition",
        message:
          `partition "${node.partition.kind}" splits by class, but regression data has no classes`,
        expected: 'partition "iid"',
        received: node.partition.kind,
      });
    }
    issues.push(...byLabelClassIssues(node.partition, data.classes));
    return issues;
  },
};
