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

import { cnn, custom, linear, logistic, mlp } from "./models.ts";
import { leastSquares, mnist, synthetic } from "./data.ts";
import { cosine, stepDecay, warmup } from "./schedules.ts";
import { adam, sgd } from "./optimizers.ts";
import {
  allReduce,
  cada,
  decentLaM,
  dmSgd,
  gossip,
  localSgd,
  overlapLocalSgd,
  sgp,
} from "./base.ts";
import { dqSgd, qsgd, sketchedSgd, topK } from "./compress.ts";
import { bmuf, slowMo } from "./outer.ts";
import { bitsPerSecond, milliseconds, network } from "./network.ts";
import { DEFAULT_STEPS, train } from "./train.ts";
import type {
  BaseKind,
  CompressorKind,
  DataKind,
  LinkNode,
  MnistNode,
  ModelKind,
  NetworkNode,
  OptimizerKind,
  OuterKind,
  Plan,
  ScheduleNode,
  StragglersNode,
  TopologyNode,
} from "./plan.ts";
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

/** How one node kind is written: `<kind>(<topology>, { <options> })`. */
interface Form {
  /** The DSL factory (for topology bases, a call that passes `options.topology` first). */
  readonly make: (options: never) => object;
  /** Options the factory requires: always written, and passed when finding the defaults. */
  readonly required?: readonly string[];
  /** Options that change other options' defaults (mnist's partition, synthetic's task). */
  readonly context?: readonly string[];
  /** The node's fields as the factory's options, where they differ from the fields. */
  readonly options?: (node: never) => Options;
}

/** A node's fields but its kind: the options of most factories. */
const fields = ({ kind: _, ...options }: { readonly kind: string }): Options => options;

/** A topology base written with its topology first: `dmSgd(ring, { beta: 0.8 })`. */
const onTopology = (base: (topology: TopologyNode, options: never) => object): Form => ({
  make: (options: { readonly topology: TopologyNode }) => base(options.topology, options as never),
  required: ["topology"],
});

/** Every node kind, written as its factory of the same name; a constant schedule is a number. */
type FormKind = Exclude<
  | ModelKind
  | DataKind
  | ScheduleNode["kind"]
  | OptimizerKind
  | BaseKind
  | CompressorKind
  | OuterKind
  | "network"
  | TopologyKind,
  "constant"
>;

/** The form of every kind (custom topologies are written by `Writer.topology`). */
const FORMS: Readonly<Record<FormKind, Form>> = {
  // Models.
  linear: { make: linear, required: ["dim"] },
  logistic: { make: logistic },
  mlp: { make: mlp, required: ["hidden"] },
  cnn: { make: cnn },
  custom: { make: custom, required: ["module"] },
  // Data: mnist's partition node is flat in the options, `{ partition: "dirichlet", alpha }`.
  mnist: {
    make: mnist,
    context: ["partition"],
    options: ({ kind: _, partition: { kind, ...split }, ...rest }: MnistNode) => ({
      partition: kind,
      ...split,
      ...rest,
    }),
  },
  synthetic: { make: synthetic, context: ["task"] },
  leastSquares: { make: leastSquares, required: ["file"] },
  // Schedules and optimizers.
  stepDecay: { make: stepDecay, required: ["lr", "every"] },
  cosine: { make: cosine, required: ["lr"] },
  warmup: { make: warmup, required: ["steps", "then"] },
  sgd: { make: sgd, required: ["lr"] },
  adam: { make: adam, required: ["lr"] },
  // Bases.
  allReduce: { make: allReduce },
  localSgd: { make: localSgd, required: ["tau"] },
  gossip: onTopology(gossip),
  sgp: onTopology(sgp),
  dmSgd: onTopology(dmSgd),
  decentLaM: onTopology(decentLaM),
  overlapLocalSgd: { make: overlapLocalSgd, required: ["tau"] },
  cada: { make: cada, required: ["c"] },
  // Compressors: QSGD as a bit width where its levels are `2^bits − 1`, as it is usually written.
  qsgd: {
    make: qsgd,
    options: ({ levels, bucket }: { levels: number; bucket: number }) =>
      Number.isInteger(Math.log2(levels + 1))
        ? { bits: Math.log2(levels + 1), bucket }
        : { levels, bucket },
  },
  dqSgd: { make: dqSgd },
  sketchedSgd: { make: sketchedSgd, required: ["k"] },
  topK: { make: topK, required: ["k"] },
  // Outer algorithms.
  slowMo: { make: slowMo, required: ["tau"] },
  bmuf: { make: bmuf, required: ["tau"] },
  // The network, in the units people write: `"100Mbit"`, `"5ms"`.
  network: { make: network, options: networkOptions },
  // Topologies.
  ring: { make: ring },
  torus: { make: torus },
  exponential: { make: exponential },
  onePeerExponential: { make: onePeerExponential },
  complete: { make: complete },
  star: { make: star },
};

/** A bandwidth in the largest unit that reads back exactly (`"100Mbit"`), else bits per second. */
function bandwidth(bits: number): string | number {
  for (const unit of ["Gbit", "Mbit", "kbit"] as const) {
    const text = `${bits / bitsPerSecond(`1${unit}`)}${unit}` as const;
    if (bits >= bitsPerSecond(`1${unit}`) && bitsPerSecond(text) === bits) return text;
  }
  return bits;
}

/** A duration as `"5ms"` when that reads back exactly, else milliseconds. */
function duration(ms: number): string | number {
  return milliseconds(`${ms}ms`) === ms ? `${ms}ms` : ms;
}

/** A network node as `network()` options; `undefined` marks an option left out. */
function networkOptions(node: NetworkNode): Options {
  const optional = <T>(value: T | null, convert: (value: T) => unknown) =>
    value === null ? undefined : convert(value);
  const stragglers = (s: StragglersNode) => ({
    ranks: s.ranks,
    probability: s.probability,
    slowdown: s.slowdown,
    delay: duration(s.delayMs),
  });
  return {
    bandwidth: optional(node.bandwidthBitsPerSecond, bandwidth),
    latency: duration(node.latencyMs),
    jitter: duration(node.jitterMs),
    links: node.links.map((link: LinkNode) => ({
      between: link.between,
      bandwidth: optional(link.bandwidthBitsPerSecond, bandwidth),
      latency: optional(link.latencyMs, duration),
      jitter: optional(link.jitterMs, duration),
    })),
    stragglers: optional(
      node.stragglers,
      (s) => changed(stragglers(s), stragglers(network({ stragglers: {} }).stragglers!)),
    ),
    computeMs: node.computeMs ?? undefined,
  };
}

/** `options` with every field equal to its default (deeply) set to `undefined`, i.e. left out. */
function changed(options: Options, defaults: Options): Options {
  return Object.fromEntries(
    Object.entries(options).map(([key, value]) => [
      key,
      same(value, defaults[key]) ? undefined : value,
    ]),
  );
}

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
    const form = FORMS[node.kind as FormKind] as Form | undefined;
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
      if (topology.source !== "inline" && same(fromFile(topology.source), topology)) {
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
