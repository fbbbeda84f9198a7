/**
 * The seeded random streams (`dsl/random.ts`, where the plan's seeded churn schedule needs them):
 * re-exported for the runtime modules that import them from here.
 *
 * @module
 */

export * from "../dsl/random.ts";
