/**
 * `custom()`: a model built by the user's own module.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { nonEmpty } from "../fields.ts";
import { buildNode, type ModelDefinition, type OptionNames } from "../kind.ts";

/** A model built by the user's own module, imported by each worker. */
export interface CustomModelNode {
  /** Node kind, named after the DSL factory `custom()`. */
  readonly kind: "custom";
  /**
   * Module specifier: a path or a `file:` URL; an `http:`/`https:` URL runs only when remote
   * modules are allowed, and other schemes (`data:` …) never (runtime/module_refs.ts).
   */
  readonly module: string;
  /** Name of the export that builds the model. */
  readonly export: string;
}

/** Options of {@linkcode custom}. */
export interface CustomModelOptions {
  /**
   * The module that builds the model: a path relative to the pipeline file (or plan file) it is
   * written in, as imports are, or a `file:` URL such as `new URL("./model.ts", import.meta.url)`
   * (`https:` only with `--allow-remote-modules`; `data:` and other schemes are refused). A
   * plan object run without being loaded from a file resolves it against the working directory.
   */
  readonly module: string | URL;
  /** The export to call (default `"default"`). */
  readonly export?: string;
}

const OPTIONS: OptionNames<CustomModelOptions> = { module: true, export: true };

/**
 * A model built by the user's own module. Each worker imports the module itself and calls the
 * named export with `{ inputShape, classes, tf }`, so the plan only carries the module's address.
 * `inputShape` is one example's shape without the batch: `[28, 28, 1]` for MNIST (height,
 * width, channels: add a `flatten` layer before dense layers), `[features]` for synthetic data.
 * The model must end in `classes` outputs (logits), or one output for regression.
 *
 * @param options The module and export name.
 * @returns A `custom` model node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { custom } from "./custom.ts";
 * const model = custom({ module: "./my_model.ts", export: "build" });
 * assert.ok(model.export === "build");
 * ```
 */
export function custom(options: CustomModelOptions): CustomModelNode {
  const module = options.module instanceof URL ? options.module.href : options.module;
  return buildNode(
    { kind: "custom", module, export: options.export ?? "default" },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `custom` models. */
export const customModelKind: ModelDefinition<CustomModelNode> = {
  schema: v.strictObject({ kind: v.literal("custom"), module: nonEmpty, export: nonEmpty }),
  form: { make: custom, required: ["module"] },
  // The user's module decides, and its size is known once it is loaded.
  task: null,
  parameters: () => null,
  variables: () => null,
};
