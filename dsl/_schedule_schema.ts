/**
 * The schema of a learning-rate schedule, which every optimizer's `lr` field uses. Kept apart from
 * `schedules.ts`, which the fields' helpers' users import, so neither imports the other.
 *
 * @module
 */

import * as v from "../deps/valibot.ts";
import { between, integer, nonNegative } from "./fields.ts";
import type { ScheduleNode } from "./schedules.ts";

/** Schedules nest (`warmup` wraps another), hence the lazy self-reference. */
export const scheduleSchema: v.GenericSchema<unknown, ScheduleNode> = v.variant("kind", [
  v.strictObject({ kind: v.literal("constant"), lr: nonNegative }),
  v.strictObject({
    kind: v.literal("stepDecay"),
    lr: nonNegative,
    factor: between(0, 1),
    every: integer(1),
  }),
  v.strictObject({
    kind: v.literal("cosine"),
    lr: nonNegative,
    minLr: nonNegative,
    steps: v.nullable(integer(1)),
  }),
  v.strictObject({
    kind: v.literal("warmup"),
    steps: integer(1),
    then: v.lazy(() => scheduleSchema),
  }),
]);
