/**
 * The pipeline DSL: factories for every slot (one file per kind, gathered by slot), the immutable
 * builder, the plan types and the validator.
 *
 * @module
 */

export * from "./plan.ts";
export * from "./models/mod.ts";
export * from "./data/mod.ts";
export * from "./schedules.ts";
export * from "./optimizers/mod.ts";
export * from "./bases/mod.ts";
export * from "./compressors/mod.ts";
export * from "./outers/mod.ts";
export * from "./network.ts";
export {
  declaredMembership,
  type ElasticFacts,
  elasticIssues,
  type ElasticNode,
  type ElasticOptions,
  elasticSchema,
  type ElasticSpec,
  elasticSpec,
  type FailureNode,
  type FailureOptions,
  isLeave,
  type LeaveNode,
  type LeaveOptions,
  membershipSchedule,
  type MembershipSpan,
  type RandomLeaveNode,
  type RandomLeaveOptions,
  randomLeaves,
  type Reshard,
  type ScheduleFacts,
} from "./elastic.ts";
export * from "./elastic_explain.ts";
export * from "./shapes.ts";
export * from "./validate.ts";
export * from "./train.ts";
export * from "./explain.ts";
export * from "./expression.ts";
export * from "./traits.ts";
export * from "./traffic.ts";
export * from "./kind.ts";
