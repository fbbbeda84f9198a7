/**
 * The pipeline DSL: factories for every slot, the immutable builder, the plan types and the
 * validator.
 *
 * @module
 */

export * from "./plan.ts";
export * from "./models.ts";
export * from "./data.ts";
export * from "./schedules.ts";
export * from "./optimizers.ts";
export * from "./base.ts";
export * from "./compress.ts";
export * from "./outer.ts";
export * from "./network.ts";
export * from "./shapes.ts";
export * from "./validate.ts";
export * from "./train.ts";
export * from "./explain.ts";
export * from "./expression.ts";
export * from "./traits.ts";
export * from "./traffic.ts";
