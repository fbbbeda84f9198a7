/**
 * Cross-slot rules: what a plan must satisfy beyond each field's own range, because slots
 * depend on each other (a topology's size and the worker count, a SlowMo period and a local-SGD
 * period, an algorithm that divides by the learning rate and a schedule that reaches zero).
 *
 * The rules here are about how slots combine and read only the kinds' definitions; what one kind
 * checks of itself against the plan (a compressor's `k` against the model's size, a data set's
 * size against the workers) is its definition's `check`, run here with the node's path. Each issue
 * carries the path of the field to change, so the message points the user at one place.
 *
 * @module
 */

import { topologyProblems } from "../topologies/mod.ts";
import { DATA_KINDS, type DataNode } from "./data/mod.ts";
import type {
  AnyNode,
  DataDefinition,
  KindDefinition,
  ModelDefinition,
  NodeIssue,
  PlanFacts,
} from "./kind.ts";
import { MODEL_KINDS, type ModelNode } from "./models/mod.ts";
import { networkIssues } from "./network.ts";
import { elasticIssues, elasticServer } from "./elastic.ts";
import type { Plan } from "./plan.ts";
import { firstNonPositiveStep, learningRate, scheduleIssues } from "./schedules.ts";
import { dataShape, modelContext, modelVariables, parameterCount } from "./shapes.ts";
import {
  basesAcceptingOuter,
  basesCompressedBy,
  baseTraits,
  compressorTraits,
  optimizerTraits,
  outerTraits,
} from "./traits.ts";

/** A validation issue: where, what was expected, what was found. */
export interface PlanIssue {
  /** Dotted path into the plan, e.g. `"outer.tau"`; empty for the plan itself. */
  readonly path: string;
  /** What is wrong, in a sentence. */
  readonly message: string;
  /** What would have been accepted. */
  readonly expected: string;
  /** What the plan holds, as JSON text. */
  readonly received: string;
}

/** Builds an issue; `received` is shown as JSON so strings keep their quotes. */
function issue(path: string, message: string, expected: string, received: unknown): PlanIssue {
  return { path, message, expected, received: JSON.stringify(received) ?? String(received) };
}

/** A node's own issues, placed at the node's path in the plan. */
function placed(at: string, issues: readonly NodeIssue[]): PlanIssue[] {
  return issues.map((found) =>
    issue(
      found.path === "" ? at : `${at}.${found.path}`,
      found.message,
      found.expected,
      found.received,
    )
  );
}

/** Runs a node's own check, if its kind has one. */
function nodeCheck<N extends AnyNode>(
  at: string,
  node: N,
  definition: KindDefinition<N>,
  facts: PlanFacts,
): PlanIssue[] {
  return placed(at, definition.check?.(node, facts) ?? []);
}

/** A topology's size, stochasticity and connectivity against the workers. */
function topologyRules(plan: Plan): PlanIssue[] {
  const base = plan.base;
  const required = baseTraits(base).topology;
  if (required === null || !("topology" in base)) return [];
  const pushSum = required === "columnStochastic";
  const problems = topologyProblems(base.topology, plan.workers, {
    requireDoublyStochastic: !pushSum,
    requirePositiveDiagonal: pushSum,
  });
  return problems.map((problem) =>
    issue(
      "base.topology",
      `${base.kind} cannot use this topology: ${problem}`,
      pushSum
        ? `a connected column-stochastic topology of ${plan.workers} nodes`
        : `a connected doubly stochastic topology of ${plan.workers} nodes`,
      base.topology.kind,
    )
  );
}

/** The optimizer that each base (and compressor) can work with, and the optimizer's own checks. */
function optimizerRules(plan: Plan, facts: PlanFacts): PlanIssue[] {
  const { base, optimizer, compress } = plan;
  const issues: PlanIssue[] = [];
  const plainSgdReason = baseTraits(base).plainSgd ??
    (compress === null ? null : compressorTraits(compress).plainSgd);
  if (plainSgdReason !== null) {
    if (optimizer.kind !== "sgd") {
      issues.push(
        issue("optimizer", `${plainSgdReason}: use sgd without momentum`, "sgd", optimizer.kind),
      );
    } else if (optimizer.momentum !== 0) {
      issues.push(
        issue(
          "optimizer.momentum",
          `${plainSgdReason}: use sgd without momentum`,
          "0",
          optimizer.momentum,
        ),
      );
    }
  }
  if (compress !== null && compressorTraits(compress).returnsUpdate === true) {
    const clip = "clipNorm" in optimizer ? optimizer.clipNorm : undefined;
    if (clip !== undefined) {
      issues.push(
        issue(
          "optimizer.clipNorm",
          `${compress.kind} applies its update itself from summed sketches, so no mean gradient ` +
            `exists to clip: remove clipNorm`,
          "no clipNorm",
          clip,
        ),
      );
    }
  }
  issues.push(...nodeCheck("optimizer", optimizer, optimizerTraits(optimizer), facts));
  return issues;
}

/** Algorithms that divide by `γ_k` need it positive at every step. */
function learningRateRules(plan: Plan): PlanIssue[] {
  const dividers = [
    plan.outer === null ? null : outerTraits(plan.outer).dividesByLr(plan.outer),
    baseTraits(plan.base).dividesByLr(plan.base),
  ].filter((name) => name !== null);
  if (dividers.length === 0) return [];
  const step = firstNonPositiveStep(plan.optimizer.lr, plan.steps);
  if (step === null) return [];
  const lr = learningRate(plan.optimizer.lr, step, plan.steps);
  const verb = dividers.length === 1 ? "divides" : "divide";
  return [
    issue(
      "optimizer.lr",
      `${dividers.join(" and ")} ${verb} by the learning rate, but it is ${lr} at step ${step}`,
      "a learning rate greater than 0 at every step",
      lr,
    ),
  ];
}

/** Periods: an outer period over the base's, and periods that fit in the run. */
function periodRules(plan: Plan): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const { base, outer } = plan;
  const basePeriod = baseTraits(base).syncPeriod(base);
  // A base that averages every step keeps the models identical, so nothing is replaced; a
  // base that takes no outer is refused by the composition rules.
  const replaces = outer === null || !baseTraits(base).acceptsOuter
    ? undefined
    : outerTraits(outer).replacesBaseSync;
  if (
    outer !== null && basePeriod !== null && basePeriod > 1 && replaces !== undefined &&
    outer.tau !== basePeriod
  ) {
    issues.push(
      issue(
        "outer.tau",
        `${outer.kind} tau ${outer.tau} differs from ${base.kind} tau ${basePeriod}: ${replaces}`,
        `${basePeriod}, or ${base.kind} tau ${outer.tau}`,
        outer.tau,
      ),
    );
  } else if (outer !== null && basePeriod !== null && outer.tau % basePeriod !== 0) {
    issues.push(
      issue(
        "outer.tau",
        `${outer.kind} tau ${outer.tau} is not a multiple of ${base.kind} tau ${basePeriod}`,
        `a multiple of ${basePeriod}`,
        outer.tau,
      ),
    );
  }
  for (const [path, node] of [["base", base], ["outer", outer]] as const) {
    if (node !== null && "tau" in node && node.tau > plan.steps) {
      issues.push(
        issue(
          `${path}.tau`,
          `${node.kind} tau ${node.tau} is larger than steps ${plan.steps}: it would never synchronise`,
          `at most ${plan.steps}`,
          node.tau,
        ),
      );
    }
  }
  if (plan.evalEvery > plan.steps) {
    issues.push(
      issue(
        "evalEvery",
        `evalEvery ${plan.evalEvery} is larger than steps ${plan.steps}: no evaluation would run`,
        `at most ${plan.steps}`,
        plan.evalEvery,
      ),
    );
  }
  return issues;
}

/** Names as a sentence lists them: `a`, `a and b`, `a, b and c`. */
function listed(names: readonly string[]): string {
  return names.length <= 1
    ? names.join("")
    : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** Which slots combine (outer over a base, compressors over a base), and their own checks. */
function compositionRules(plan: Plan, facts: PlanFacts): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const { base, outer, compress } = plan;
  if (outer !== null && !baseTraits(base).acceptsOuter) {
    issues.push(
      issue(
        "outer",
        `${outer.kind} cannot wrap ${base.kind}: ${base.kind} runs its own synchronisation`,
        `no outer algorithm, or a base among ${basesAcceptingOuter().join(", ")}`,
        outer.kind,
      ),
    );
  }
  issues.push(...nodeCheck("base", base, baseTraits(base), facts));
  if (compress !== null) {
    const allowed: string[] = basesCompressedBy(compress);
    if (!allowed.includes(base.kind)) {
      issues.push(
        issue(
          "compress",
          `${compress.kind} cannot compress what ${base.kind} sends: it supports ${
            listed(allowed)
          }`,
          `a base among ${allowed.join(", ")}`,
          compress.kind,
        ),
      );
    }
    if (
      baseTraits(base).compresses === "publicDifference" &&
      compressorTraits(compress).errorFeedback(compress)
    ) {
      // CHOCO-SGD's public copies already carry what a code left out to the next step.
      issues.push(
        issue(
          "compress.errorFeedback",
          `${base.kind} keeps its own memory of what was not sent (the public copies), so ` +
            `${compress.kind} must not add error feedback: use ${compress.kind}({ ..., errorFeedback: false })`,
          "false",
          true,
        ),
      );
    }
    issues.push(...nodeCheck("compress", compress, compressorTraits(compress), facts));
  }
  if (outer !== null) issues.push(...nodeCheck("outer", outer, outerTraits(outer), facts));
  return issues;
}

/** What each task's data is for, in words. */
const TASK_WORDS = {
  classification: "classification",
  regression: "regression",
  language: "language modelling",
} as const satisfies { readonly [T in PlanFacts["data"]["task"]]: string };

/** The model must fit the data: task, sizes, image input; and fit in one vector. */
function modelDataRules(plan: Plan, facts: PlanFacts): PlanIssue[] {
  const { model, data } = plan;
  const definition = MODEL_KINDS[model.kind] as ModelDefinition<ModelNode>;
  const task = facts.data.task;
  if (definition.task !== null && definition.task !== task) {
    return [
      issue(
        "model",
        `${model.kind} is a ${definition.task} model but ${data.kind} data is for ${
          TASK_WORDS[task]
        }`,
        `a ${task} model`,
        model.kind,
      ),
    ];
  }
  if (task === "language" && facts.context === null) {
    return [
      issue(
        "model",
        `${data.kind} data is token sequences, which need a model with a context length such as ` +
          `transformer(), but ${model.kind} has none`,
        "a language model (transformer)",
        model.kind,
      ),
    ];
  }
  const issues = nodeCheck("model", model, definition, facts);
  const d = issues.length === 0 ? facts.parameters : null;
  if (d !== null && d > MAX_PARAMETERS) {
    issues.push(
      issue(
        "model",
        `the model has ${d.toLocaleString("en-US")} parameters (${
          (d * 4 / 2 ** 30).toFixed(1)
        } GiB as float32), more than one worker can hold in a vector`,
        `at most ${MAX_PARAMETERS.toLocaleString("en-US")} parameters`,
        d,
      ),
    );
  }
  return issues;
}

/**
 * The most parameters a model may have: a worker keeps the model as one flat float32 vector,
 * and TensorFlow.js and V8 index such vectors with 32-bit signed integers.
 */
export const MAX_PARAMETERS = 2 ** 31 - 1;

/**
 * Runs every cross-slot rule, and every node's own check, on a plan whose fields already passed
 * the schema.
 *
 * @param plan A schema-valid plan.
 * @returns All issues found, in slot order.
 */
export function crossSlotIssues(plan: Plan): PlanIssue[] {
  const data = dataShape(plan.data);
  const facts: PlanFacts = {
    workers: plan.workers,
    steps: plan.steps,
    dataKind: plan.data.kind,
    data,
    parameters: parameterCount(plan.model, plan.data),
    context: modelContext(plan.model),
    variables: modelVariables(plan.model, plan.data),
  };
  const dataDefinition = DATA_KINDS[plan.data.kind] as DataDefinition<DataNode>;
  return [
    ...modelDataRules(plan, facts),
    ...nodeCheck("data", plan.data, dataDefinition, facts),
    ...optimizerRules(plan, facts),
    ...placed("optimizer.lr", scheduleIssues(plan.optimizer.lr)),
    ...topologyRules(plan),
    ...compositionRules(plan, facts),
    ...periodRules(plan),
    ...learningRateRules(plan),
    ...(plan.network === null ? [] : placed("network", networkIssues(plan.network, plan.workers))),
    ...elasticIssues({
      workers: plan.workers,
      steps: plan.steps,
      elastic: plan.elastic ?? null,
      failures: plan.network?.failures ?? [],
      seed: plan.seed,
      server: elasticServer(plan),
    }).map((found) => issue(found.path, found.message, found.expected, found.received)),
  ];
}
