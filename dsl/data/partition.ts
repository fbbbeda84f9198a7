/**
 * How a labelled training set is split across workers, written flat in a data factory's options
 * (`mnist({ partition: "dirichlet", alpha: 0.5 })`) and stored as a node of its own.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { above, integer } from "../fields.ts";
import type { NodeIssue, OptionProblem } from "../kind.ts";
import { unknownWord } from "../../strict_options.ts";

/** How a classification training set is split across workers. */
export type PartitionNode =
  | { readonly kind: "iid" }
  | { readonly kind: "dirichlet"; readonly alpha: number }
  | { readonly kind: "byLabel"; readonly classesPerWorker: number };

/**
 * How to split the training set across workers: `"iid"` (default, shuffled evenly),
 * `"dirichlet"` (per-class proportions drawn from Dirichlet(alpha); small alpha is more skewed)
 * or `"byLabel"` (each worker sees only `classesPerWorker` classes).
 */
export type PartitionOptions =
  | { readonly partition?: "iid" }
  | { readonly partition: "dirichlet"; readonly alpha?: number }
  | { readonly partition: "byLabel"; readonly classesPerWorker?: number };

/** The options each partition reads besides `partition` itself. */
const PARTITION_OPTIONS = {
  iid: [],
  dirichlet: ["alpha"],
  byLabel: ["classesPerWorker"],
} as const satisfies { readonly [K in PartitionNode["kind"]]: readonly string[] };

/** The partition's schema. */
export const partitionSchema: v.GenericSchema<unknown, PartitionNode> = v.variant("kind", [
  v.strictObject({ kind: v.literal("iid") }),
  v.strictObject({ kind: v.literal("dirichlet"), alpha: above(0) }),
  v.strictObject({ kind: v.literal("byLabel"), classesPerWorker: integer(1) }),
]);

/** What {@linkcode partitionFromOptions} makes of a factory's options. */
export interface PartitionFromOptions {
  /** The node (its `kind` is the text given when that is not a partition, so the plan fails). */
  readonly node: PartitionNode;
  /** The option names the factory must not call unknown: this partition's, and those reported. */
  readonly names: readonly string[];
  /** An unknown partition, or an option of another partition. */
  readonly problems: readonly OptionProblem[];
}

/**
 * The partition node of flat data options, with what they say that no partition understands.
 *
 * @param options A data factory's options.
 * @returns The node, the option names it reads, and the problems found.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partitionFromOptions } from "./partition.ts";
 * assert.deepEqual(partitionFromOptions({ partition: "dirichlet" }).node, { kind: "dirichlet", alpha: 0.5 });
 * assert.equal(partitionFromOptions({ partition: "iid", alpha: 1 } as never).problems[0]?.path, "alpha");
 * ```
 */
export function partitionFromOptions(options: PartitionOptions): PartitionFromOptions {
  const kind = options.partition ?? "iid";
  const unknown = unknownWord("partition", kind, Object.keys(PARTITION_OPTIONS));
  if (unknown !== null) {
    return { node: { kind } as unknown as PartitionNode, names: [], problems: [unknown] };
  }
  const names: readonly string[] = PARTITION_OPTIONS[kind];
  // An option of another partition is not a typo: say which partition reads it.
  const misplaced = Object.entries(PARTITION_OPTIONS).flatMap(([other, keys]) =>
    other === kind ? [] : keys.filter((key) => Object.hasOwn(options, key)).map((key) => ({
      path: key,
      message: `${key} applies to partition "${other}" only, not "${kind}"`,
      expected: `partition "${other}", or no ${key}`,
      received: JSON.stringify((options as Record<string, unknown>)[key]),
    }))
  );
  // Those are reported here, not again as unknown options.
  const reported = misplaced.map((problem) => problem.path);
  return { node: partitionNode(options), names: [...names, ...reported], problems: misplaced };
}

/** The node of a known partition, with its defaults. */
function partitionNode(options: PartitionOptions): PartitionNode {
  switch (options.partition) {
    case "dirichlet":
      return { kind: "dirichlet", alpha: options.alpha ?? 0.5 };
    case "byLabel":
      return { kind: "byLabel", classesPerWorker: options.classesPerWorker ?? 2 };
    default:
      return { kind: "iid" };
  }
}

/**
 * A `byLabel` partition cannot give each worker more classes than the data has: the issue, at
 * `partition.classesPerWorker` relative to the data node, or none (also none while the class
 * count is unknown).
 *
 * @param partition The data node's partition.
 * @param classes The data's classes, or `null` when only its file knows.
 * @returns The issues.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byLabelClassIssues } from "./partition.ts";
 * assert.equal(byLabelClassIssues({ kind: "byLabel", classesPerWorker: 3 }, 2).length, 1);
 * assert.equal(byLabelClassIssues({ kind: "byLabel", classesPerWorker: 3 }, null).length, 0);
 * ```
 */
export function byLabelClassIssues(partition: PartitionNode, classes: number | null): NodeIssue[] {
  if (partition.kind !== "byLabel" || classes === null) return [];
  const k = partition.classesPerWorker;
  if (k <= classes) return [];
  return [{
    path: "partition.classesPerWorker",
    message: `byLabel classesPerWorker ${k} is more than the ${classes} classes`,
    expected: `at most ${classes}`,
    received: k,
  }];
}
