/**
 * A plan printed back as the DSL expression that builds it, so a run report (or anyone reading
 * a plan file) sees the pipeline as it would have been written: `train(…).data(…)…`, one builder
 * call per line, rather than a JSON tree of explicit defaults.
 *
 * The printout is exact: evaluated with the names of the package root in scope, it compiles to a
 * plan deep-equal to the one printed. It is also short: every option (and builder call) equal to
 * its default is left out. Defaults are never written down here; each is found by calling the DSL
 * factory itself with only its required options (the plan's own values for those), so the printer
 * follows the DSL whenever a default changes.
 *
 * @module
 */

import { isAbsolute } from "node:path";
import { allReduce, BASE_KINDS } from "./bases/mod.ts";
import { COMPRESSOR_KINDS } from "./compressors/mod.ts";
import { DATA_KINDS, synthetic } from "./data/mod.ts";
import type { Form } from "./kind.ts";
import { logistic, MODEL_KINDS } from "./models/mod.ts";
import { NETWORK_FORM } from "./network.ts";
import { OPTIMIZER_KINDS, sgd } from "./optimizers/mod.ts";
import { OUTER_KINDS } from "./outers/mod.ts";
import type { Plan, ScheduleNode, TopologyNode } from "./plan.ts";
import { SCHEDULE_FORMS } from "./schedules.ts";
import { DEFAULT_STEPS, train } from "./train.ts";
import type { TopologyKind } from "../topologies/types.ts";
import {
  complete,
  exponential,
  fromFile,
  onePeerExponential,
  ring,
  star,
  torus,
} from "../topologies/mod.ts";

/** A factory's options object. */
type Options = Record<string, unknown>;

/** A node's fields but its kind: the options of most factories. */
const fields = ({ kind: _, ...options }: { readonly kind: string }): Options => options;

/** How each topology is written (a custom one is written by `Writer.topology`). */
const TOPOLOGY_FORMS: { readonly [K in Exclude<TopologyKind, "custom">]: Form } = {
  ring: { make: ring },
  torus: { make: torus },
  exponential: { make: exponential },
  onePeerExponential: { make: onePeerExponential },
  complete: { make: complete },
  star: { make: star },
};

/** The forms of a slot's kinds. */
function formsOf(table: { readonly [kind: string]: { readonly form: Form } }) {
  return Object.fromEntries(Object.entries(table).map(([kind, row]) => [kind, row.form]));
}

/**
 * Every kind's form, each written as its factory of the same name: the slots' from their kinds'
 * files, schedules (a constant is a number), the network and the topologies. A model and a
 * topology may share a kind's name (`custom`): the topology's is never looked up here.
 */
const FORMS: Readonly<Record<string, Form>> = {
  ...TOPOLOGY_FORMS,
  ...SCHEDULE_FORMS,
  network: NETWORK_FORM,
  ...formsOf(MODEL_KINDS),
  ...formsOf(DATA_KINDS),
  ...formsOf(OPTIMIZER_KINDS),
  ...formsOf(BASE_KINDS),
  ...formsOf(COMPRESSOR_KINDS),
  ...formsOf(OUTER_KINDS),
};

/** Deep equality of JSON-like values; a field set to `undefined` counts as absent. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return Object.is(a, b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const x = a as Options;
  const y = b as Options;
  return [...Object.keys(x), ...Object.keys(y)].every((key) => same(x[key], y[key]));
}

/** Prints nodes and values, collecting the package-root names the text uses. */
class Writer {
  /** Names of the package root used so far. */
  readonly names = new Set<string>(["train"]);

  /**
   * A node of any kind in {@linkcode FORMS}: `kind(topology, { options })`, the required options
   * first, then those that differ from their defaults, in the factory's order.
   */
  node(node: { readonly kind: string }): string {
    const form = FORMS[node.kind];
    if (form === undefined) throw new TypeError(`Cannot print node kind "${node.kind}"`);
    const make = form.make as (options: Options) => object;
    const read = (form.options ?? fields) as (node: object) => Options;
    const options = read(node);
    const required = form.required ?? [];
    const context = form.context ?? [];
    const pick = (keys: readonly string[]) =>
      Object.fromEntries(keys.filter((key) => key in options).map((key) => [key, options[key]]));
    // Defaults without the context options, for those themselves, and with them, for the rest.
    const plain = read(make(pick(required)));
    const within = context.length === 0 ? plain : read(make(pick([...required, ...context])));
    const { topology, ...written } = Object.fromEntries(
      [...new Set([...required, ...Object.keys(within), ...Object.keys(options)])]
        .filter((key) =>
          key in options &&
          (required.includes(key) ||
            !same(options[key], (context.includes(key) ? plain : within)[key]))
        )
        .map((key) => [key, options[key]]),
    );
    this.names.add(node.kind);
    const args = [
      ...(topology === undefined ? [] : [this.topology(topology as TopologyNode)]),
      ...(Object.keys(written).length === 0 ? [] : [this.value(written)]),
    ];
    return `${node.kind}(${args.join(", ")})`;
  }

  /** A learning rate: a number for a constant, else the schedule's factory call. */
  schedule(schedule: ScheduleNode): string {
    return schedule.kind === "constant" ? this.value(schedule.lr) : this.node(schedule);
  }

  /**
   * A topology: the bare factory when it is the default (`ring`, `torus`), a call otherwise; a
   * custom one as `fromFile(source)` while that file still gives exactly these weights, else as
   * the node itself, weights included.
   */
  topology(topology: TopologyNode): string {
    if (topology.kind !== "custom") {
      const text = this.node(topology);
      return text.endsWith("()") ? text.slice(0, -2) : text;
    }
    try {
      // Only a file named absolutely: a relative source (plans written before `fromFile` made
      // its paths absolute) would be read relative to this module; a URL is fetched, not read.
      if (isAbsolute(topology.source) && same(fromFile(topology.source), topology)) {
        this.names.add("fromFile");
        return `fromFile(${this.value(topology.source)})`;
      }
    } catch {
      // The file is gone, unreadable or unreachable from here: the weights are in the plan.
    }
    return this.value(topology);
  }

  /** A value as TypeScript: numbers that round-trip, JSON strings, arrays, object literals. */
  value(value: unknown, key?: string): string {
    if (typeof value === "string") return JSON.stringify(value);
    if (Array.isArray(value)) return `[${value.map((item) => this.value(item)).join(", ")}]`;
    if (typeof value !== "object" || value === null) return String(value);
    if (key === "lr" || key === "then") return this.schedule(value as ScheduleNode);
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    if (entries.length === 0) return "{}";
    return `{ ${entries.map(([name, item]) => `${name}: ${this.value(item, name)}`).join(", ")} }`;
  }
}

/**
 * An elastic plan's `.elastic(…)` options, those equal to their defaults left out (found by
 * compiling the small pipeline with only `minWorkers` at this plan's worker count).
 */
function elasticOptions(plan: Plan): Options {
  const elastic = plan.elastic!;
  const defaults = train(logistic()).data(synthetic()).workers(plan.workers)
    .optimizer(sgd({ lr: 0.1 })).base(allReduce()).elastic({ minWorkers: 1 }).compile().elastic!;
  return Object.fromEntries(
    Object.entries(elastic).filter(([key, value]) =>
      key === "minWorkers" || !same(value, defaults[key as keyof typeof defaults])
    ),
  );
}

/** Prints the plan and collects the names it uses. */
function render(plan: Plan): { text: string; names: Set<string> } {
  const writer = new Writer();
  // What the builder fills in for calls left out, found by leaving them out of a small pipeline.
  const implicit = train(logistic()).data(synthetic()).optimizer(sgd({ lr: 0.1 }))
    .base(allReduce()).steps(plan.steps).compile();
  const calls = [
    `.data(${writer.node(plan.data)})`,
    plan.workers === implicit.workers ? null : `.workers(${plan.workers})`,
    `.optimizer(${writer.node(plan.optimizer)})`,
    `.base(${writer.node(plan.base)})`,
    plan.compress === null ? null : `.compress(${writer.node(plan.compress)})`,
    plan.outer === null ? null : `.outer(${writer.node(plan.outer)})`,
    plan.network === null ? null : `.network(${writer.node(plan.network)})`,
    plan.elastic == null ? null : `.elastic(${writer.value(elasticOptions(plan))})`,
    plan.steps === DEFAULT_STEPS ? null : `.steps(${plan.steps})`,
    plan.evalEvery === implicit.evalEvery ? null : `.evalEvery(${plan.evalEvery})`,
    plan.seed === implicit.seed ? null : `.seed(${plan.seed})`,
  ];
  const lines = [`train(${writer.node(plan.model)})`, ...calls.filter((call) => call !== null)];
  return { text: lines.join("\n  "), names: writer.names };
}

/**
 * Prints a plan as the DSL expression that builds it: `train(model)` and one builder call per
 * line, options equal to their defaults left out. Evaluated with {@linkcode planImports}'s names
 * imported from the package root, the expression compiles to a plan deep-equal to `plan`.
 *
 * A custom topology loaded with `fromFile` is printed as `fromFile("<path>")` while that file
 * still holds the same weights; otherwise (or when built inline) as the topology node itself.
 *
 * @param plan A valid plan, compiled or parsed from a plan file.
 * @returns TypeScript source of the expression, without a trailing `.compile()` or semicolon.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gossip, mlp, mnist, ring, sgd, slowMo, train } from "../mod.ts";
 * import { planExpression } from "./expression.ts";
 *
 * const plan = train(mlp({ hidden: [128], activation: "relu" }))
 *   .data(mnist({ partition: "dirichlet", alpha: 0.5, batchSize: 32 }))
 *   .workers(8)
 *   .optimizer(sgd({ lr: 0.1, momentum: 0 }))
 *   .base(gossip(ring()))
 *   .outer(slowMo({ beta: 0.7, tau: 12 }))
 *   .steps(600)
 *   .seed(0)
 *   .compile();
 * assert.equal(
 *   planExpression(plan),
 *   `train(mlp({ hidden: [128] }))
 *   .data(mnist({ partition: "dirichlet" }))
 *   .workers(8)
 *   .optimizer(sgd({ lr: 0.1 }))
 *   .base(gossip(ring))
 *   .outer(slowMo({ tau: 12, beta: 0.7 }))
 *   .steps(600)`,
 * );
 * ```
 */
export function planExpression(plan: Plan): string {
  return render(plan).text;
}

/**
 * The names {@linkcode planExpression}'s text uses, all exported by the package root, so a
 * caller can write `import { … } from "@gossamer/gossamer"` above it.
 *
 * @param plan A valid plan.
 * @returns The names, sorted.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduce, logistic, sgd, synthetic, train } from "../mod.ts";
 * import { planImports } from "./expression.ts";
 *
 * const plan = train(logistic()).data(synthetic()).optimizer(sgd({ lr: 0.1 }))
 *   .base(allReduce()).compile();
 * assert.deepEqual(planImports(plan), ["allReduce", "logistic", "sgd", "synthetic", "train"]);
 * ```
 */
export function planImports(plan: Plan): string[] {
  return [...render(plan).names].sort();
}
