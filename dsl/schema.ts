/**
 * The valibot schema of a plan, assembled from each kind's own schema in its slot's table; the
 * fields every plan has are checked here. Cross-slot rules (which need the whole plan) live in
 * `rules.ts`; `validate.ts` runs both.
 *
 * @module
 */

import * as v from "../deps/valibot.ts";
import { BASE_KINDS } from "./bases/mod.ts";
import { COMPRESSOR_KINDS } from "./compressors/mod.ts";
import { DATA_KINDS } from "./data/mod.ts";
import { type ElasticNode, elasticSchema } from "./elastic.ts";
import { integer } from "./fields.ts";
import { MODEL_KINDS } from "./models/mod.ts";
import type { NodeSchema } from "./kind.ts";
import { type NetworkNode, networkSchema } from "./network.ts";
import { OPTIMIZER_KINDS } from "./optimizers/mod.ts";
import { OUTER_KINDS } from "./outers/mod.ts";
import { PLAN_VERSION } from "./plan.ts";

/**
 * The schemas of a slot's kinds, in table order: one variant per slot, chosen by `kind`. Each
 * kind's schema is a strict object (its definition's type ties it to its node type); the variant
 * produces the slot's node union.
 */
function kinds<T extends { readonly [kind: string]: { readonly schema: NodeSchema<unknown> } }>(
  table: T,
): v.GenericSchema<unknown, OutputOf<T[keyof T]["schema"]>> {
  const schemas = Object.values(table).map((row) => row.schema);
  return valibot<OutputOf<T[keyof T]["schema"]>>(
    v.variant("kind", schemas as unknown as v.VariantOptions<"kind">),
  );
}

/** The node type a kind's schema produces. */
type OutputOf<S> = S extends NodeSchema<infer N> ? N : never;

/** A schema as valibot runs it: a kind's schema is one, typed only by its output. */
function valibot<N>(schema: NodeSchema<N> | v.GenericSchema): v.GenericSchema<unknown, N> {
  return schema as unknown as v.GenericSchema<unknown, N>;
}

/** The whole plan. */
export const planSchema = v.strictObject({
  version: v.literal(PLAN_VERSION, `must be ${PLAN_VERSION}, the plan version this gossamer runs`),
  model: kinds(MODEL_KINDS),
  data: kinds(DATA_KINDS),
  workers: integer(1, 4096),
  optimizer: kinds(OPTIMIZER_KINDS),
  base: kinds(BASE_KINDS),
  compress: v.nullable(kinds(COMPRESSOR_KINDS)),
  outer: v.nullable(kinds(OUTER_KINDS)),
  network: v.nullable(valibot<NetworkNode>(networkSchema)),
  // Absent in plans written before elastic training existed; `parsePlan` fills in `null`.
  elastic: v.optional(v.nullable(valibot<ElasticNode>(elasticSchema)), null),
  steps: integer(1),
  evalEvery: integer(1),
  seed: integer(0, 2 ** 32 - 1),
});
