/**
 * Cross-slot rules: what a plan must satisfy beyond each field's own range, because slots
 * depend on each other (a topology's size and the worker count, a SlowMo period and a local-SGD
 * period, an algorithm that divides by the learning rate and a schedule that reaches zero).
 *
 * Each rule returns issues with the path of the field to change, so the message points the user
 * at one place.
 *
 * @module
 */

import { topologyProblems } from "../topologies/mod.ts";
import type { Plan } from "./plan.ts";
import { firstNonPositiveStep, learningRate } from "./schedules.ts";
import { cnnFeatureSide, dataShape, parameterCount } from "./shapes.ts";
import {
  basesAcceptingOuter,
  basesCompressedBy,
  baseTraits,
  compressorTraits,
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

/** The optimizer that each base can work with. */
function optimizerRules(plan: Plan): PlanIssue[] {
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
  if (optimizer.kind === "sgd" && optimizer.nesterov && optimizer.momentum === 0) {
    issues.push(
      issue("optimizer.nesterov", "nesterov needs momentum greater than 0", "false", true),
    );
  }
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

/** Periods: outer over local SGD, and periods that fit in the run. */
function periodRules(plan: Plan): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const { base, outer } = plan;
  if (outer !== null && base.kind === "localSgd" && outer.tau % base.tau !== 0) {
    issues.push(
      issue(
        "outer.tau",
        `${outer.kind} tau ${outer.tau} is not a multiple of localSgd tau ${base.tau}`,
        `a multiple of ${base.tau}`,
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

/** Which slots combine: outer over a base, compressors over a base. */
function compositionRules(plan: Plan): PlanIssue[] {
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
  if (compress !== null) {
    const allowed: string[] = basesCompressedBy(compress);
    if (!allowed.includes(base.kind)) {
      issues.push(
        issue(
          "compress",
          `${compress.kind} cannot compress what ${base.kind} sends: it supports ${
            allowed.join(" and ")
          }`,
          `a base among ${allowed.join(", ")}`,
          compress.kind,
        ),
      );
    }
    if (compress.kind === "dqSgd") {
      if (compress.minBits > compress.maxBits) {
        issues.push(
          issue(
            "compress.minBits",
            `dqSgd minBits ${compress.minBits} is larger than maxBits ${compress.maxBits}`,
            `at most ${compress.maxBits}`,
            compress.minBits,
          ),
        );
      } else if (compress.budgetBits < compress.minBits || compress.budgetBits > compress.maxBits) {
        issues.push(
          issue(
            "compress.budgetBits",
            `dqSgd budgetBits ${compress.budgetBits} is outside minBits..maxBits ${compress.minBits}..${compress.maxBits}`,
            `between ${compress.minBits} and ${compress.maxBits}`,
            compress.budgetBits,
          ),
        );
      }
    }
    const d = parameterCount(plan.model, plan.data);
    if (
      (compress.kind === "topK" || compress.kind === "sketchedSgd") && d !== null && compress.k > d
    ) {
      issues.push(
        issue(
          "compress.k",
          `${compress.kind} k ${compress.k} is larger than the model's ${d} parameters`,
          `at most ${d}`,
          compress.k,
        ),
      );
    }
  }
  return issues;
}

/** The model must fit the data: task, sizes, image input. */
function modelDataRules(plan: Plan): PlanIssue[] {
  const { model, data } = plan;
  const shape = dataShape(data);
  const issues: PlanIssue[] = [];
  const wants = model.kind === "linear" ? "regression" : "classification";
  if (model.kind !== "custom" && shape.task !== wants) {
    issues.push(
      issue(
        "model",
        `${model.kind} is a ${wants} model but ${data.kind} data is ${shape.task}`,
        `a ${shape.task} model`,
        model.kind,
      ),
    );
    return issues;
  }
  if (model.kind === "linear" && shape.features !== null && model.dim !== shape.features) {
    issues.push(
      issue(
        "model.dim",
        `linear dim ${model.dim} does not match the data's ${shape.features} features`,
        String(shape.features),
        model.dim,
      ),
    );
  }
  if (model.kind === "logistic") {
    if (model.inputs !== null && shape.features !== null && model.inputs !== shape.features) {
      issues.push(
        issue(
          "model.inputs",
          `logistic inputs ${model.inputs} does not match the data's ${shape.features} features`,
          String(shape.features),
          model.inputs,
        ),
      );
    }
    if (model.classes !== null && model.classes !== shape.classes) {
      issues.push(
        issue(
          "model.classes",
          `logistic classes ${model.classes} does not match the data's ${shape.classes} classes`,
          String(shape.classes),
          model.classes,
        ),
      );
    }
  }
  if (model.kind === "cnn") {
    if (shape.image === null) {
      issues.push(
        issue(
          "model",
          `cnn needs image data, but ${data.kind} data is not images`,
          "mnist data",
          data.kind,
        ),
      );
    } else if (cnnFeatureSide(model, shape.image[0]) < 1) {
      issues.push(
        issue(
          "model.kernel",
          `cnn kernel ${model.kernel} is too large for ${shape.image[0]}×${shape.image[1]} images`,
          "a smaller kernel",
          model.kernel,
        ),
      );
    }
  }
  const d = issues.length === 0 ? parameterCount(model, data) : null;
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

/** The data must be splittable across the workers. */
function dataRules(plan: Plan): PlanIssue[] {
  const { data, workers } = plan;
  const issues: PlanIssue[] = [];
  if (data.kind === "mnist" && data.trainSize + data.testSize > 10000) {
    issues.push(
      issue(
        "data.trainSize",
        `mnist has 10000 digits but trainSize ${data.trainSize} + testSize ${data.testSize} asks for ${
          data.trainSize + data.testSize
        }`,
        `at most ${10000 - data.testSize}`,
        data.trainSize,
      ),
    );
  }
  if (data.kind !== "leastSquares") {
    if (data.trainSize < workers) {
      issues.push(
        issue(
          "data.trainSize",
          `trainSize ${data.trainSize} is smaller than workers ${workers}: some workers would get no data`,
          `at least ${workers}`,
          data.trainSize,
        ),
      );
    }
    const classes = dataShape(data).classes;
    if (data.kind === "synthetic" && data.task === "classification" && classes < 2) {
      issues.push(
        issue("data.classes", "classification needs at least 2 classes", "at least 2", classes),
      );
    }
    if (data.kind === "mnist" && data.partition.kind === "byLabel") {
      const k = data.partition.classesPerWorker;
      if (k > classes) {
        issues.push(
          issue(
            "data.partition.classesPerWorker",
            `byLabel classesPerWorker ${k} is more than the ${classes} classes`,
            `at most ${classes}`,
            k,
          ),
        );
      }
    }
  }
  return issues;
}

/** Schedules whose own fields depend on each other. */
function scheduleRules(plan: Plan): PlanIssue[] {
  const issues: PlanIssue[] = [];
  let schedule = plan.optimizer.lr;
  let path = "optimizer.lr";
  while (schedule.kind === "warmup") {
    schedule = schedule.then;
    path += ".then";
  }
  if (schedule.kind === "cosine" && schedule.minLr > schedule.lr) {
    issues.push(
      issue(
        `${path}.minLr`,
        `cosine minLr ${schedule.minLr} is larger than lr ${schedule.lr}`,
        `at most ${schedule.lr}`,
        schedule.minLr,
      ),
    );
  }
  return issues;
}

/** Straggler and link ranks must exist; a link joins two different ranks, once. */
function networkRules(plan: Plan): PlanIssue[] {
  const network = plan.network;
  if (network === null) return [];
  const last = plan.workers - 1;
  const issues = (network.stragglers?.ranks ?? []).flatMap((rank, i) =>
    rank <= last ? [] : [
      issue(
        `network.stragglers.ranks.${i}`,
        `straggler rank ${rank} does not exist with ${plan.workers} workers`,
        `a rank in 0..${last}`,
        rank,
      ),
    ]
  );
  const seen = new Set<string>();
  network.links.forEach((link, i) => {
    const [a, b] = link.between;
    const path = `network.links.${i}.between`;
    if (a > last || b > last) {
      issues.push(
        issue(
          path,
          `link between ${a} and ${b} names a rank that does not exist with ${plan.workers} workers`,
          `ranks in 0..${last}`,
          link.between,
        ),
      );
    } else if (a === b) {
      issues.push(
        issue(
          path,
          `a link joins two different ranks, not ${a} and itself`,
          "two ranks",
          link.between,
        ),
      );
    }
    const key = `${Math.min(a, b)}-${Math.max(a, b)}`;
    if (seen.has(key)) {
      issues.push(
        issue(
          path,
          `the link between ${a} and ${b} is declared twice`,
          "each link once",
          link.between,
        ),
      );
    }
    seen.add(key);
  });
  return issues;
}

/**
 * Runs every cross-slot rule on a plan whose fields already passed the schema.
 *
 * @param plan A schema-valid plan.
 * @returns All issues found, in slot order.
 */
export function crossSlotIssues(plan: Plan): PlanIssue[] {
  return [
    ...modelDataRules(plan),
    ...dataRules(plan),
    ...optimizerRules(plan),
    ...scheduleRules(plan),
    ...topologyRules(plan),
    ...compositionRules(plan),
    ...periodRules(plan),
    ...learningRateRules(plan),
    ...networkRules(plan),
  ];
}
