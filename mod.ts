/**
 * gossamer: communication-efficient distributed training as typed, composable code.
 *
 * Write a pipeline with the fluent DSL, compile it to a validated, serialisable plan, and train
 * it with {@linkcode run} (or the `gossamer` command line), which writes a run folder of
 * metrics, summary and parameters.
 *
 * @example
 * ```ts
 * import { gossip, mlp, mnist, ring, sgd, slowMo, train } from "./mod.ts";
 *
 * const plan = train(mlp({ hidden: [128] }))
 *   .data(mnist({ partition: "dirichlet", alpha: 0.5 }))
 *   .workers(8)
 *   .optimizer(sgd({ lr: 0.1 }))
 *   .base(gossip(ring))
 *   .outer(slowMo({ beta: 0.7, tau: 12 }))
 *   .steps(600)
 *   .compile();
 * console.assert(plan.base.kind === "gossip");
 * ```
 *
 * @module
 */

export * from "./dsl/mod.ts";
export * from "./topologies/mod.ts";
export {
  run,
  RunError,
  type RunOptions,
  type RunResult,
  type RunSummary,
  totalBytes,
  type WorkerBytes,
} from "./runtime/run.ts";
export { loadPlan, PlanLoadError } from "./runtime/load_plan.ts";
