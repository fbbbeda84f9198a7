/**
 * Type tests that tie the plan's valibot schema (`dsl/schema.ts`) to the plan's node types
 * (`dsl/plan.ts`) and to the tables keyed by kind, checked by `deno check`: a node kind added to
 * one and forgotten in another fails to compile here. The schema's output type must equal the
 * node types slot by slot, kinds and fields alike (`readonly` aside, which valibot does not
 * produce).
 */

import { equal } from "node:assert/strict";
import type * as v from "../../deps/valibot.ts";
import type {
  BaseKind,
  BaseNode,
  CompressorKind,
  CompressorNode,
  DataKind,
  DataNode,
  ModelKind,
  ModelNode,
  NetworkNode,
  OptimizerKind,
  OptimizerNode,
  OuterKind,
  OuterNode,
  Plan,
  TopologyNode,
} from "../../dsl/plan.ts";
import type { planSchema } from "../../dsl/schema.ts";
import { BASE_KINDS } from "../../dsl/bases/mod.ts";
import { COMPRESSOR_KINDS } from "../../dsl/compressors/mod.ts";
import { OUTER_KINDS } from "../../dsl/outers/mod.ts";
import { BASES, OUTERS } from "../../runtime/algorithms/registry.ts";
import { CHANNELS } from "../../runtime/compressors/registry.ts";

/** `T` with every `readonly` removed, all the way down. */
type Mutable<T> = T extends readonly (infer E)[] ? Mutable<E>[]
  : T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> }
  : T;

/** `true` when each of `A` and `B` is assignable to the other, `readonly` aside. */
type Same<A, B> = [Mutable<A>] extends [Mutable<B>] ? [Mutable<B>] extends [Mutable<A>] ? true
  : false
  : false;

/** Compiles only when `T` is `true`. */
function assertType<T extends true>(): T | void {}

type SchemaPlan = v.InferOutput<typeof planSchema>;

// The helpers tell different types apart.
// @ts-expect-error: a missing kind is a different union
assertType<Same<"a" | "b", "a">>();
// @ts-expect-error: a missing field is a different node
assertType<Same<{ kind: "a"; tau: number }, { kind: "a" }>>();
assertType<Same<{ readonly a: readonly number[] }, { a: number[] }>>();

// Kinds, slot by slot.
assertType<Same<SchemaPlan["model"]["kind"], ModelKind>>();
assertType<Same<SchemaPlan["data"]["kind"], DataKind>>();
assertType<Same<SchemaPlan["optimizer"]["kind"], OptimizerKind>>();
assertType<Same<SchemaPlan["base"]["kind"], BaseKind>>();
assertType<Same<NonNullable<SchemaPlan["compress"]>["kind"], CompressorKind>>();
assertType<Same<NonNullable<SchemaPlan["outer"]>["kind"], OuterKind>>();

// Whole nodes.
assertType<Same<SchemaPlan["model"], ModelNode>>();
assertType<Same<SchemaPlan["optimizer"], OptimizerNode>>();
assertType<Same<SchemaPlan["data"], DataNode>>();
assertType<Same<SchemaPlan["base"], BaseNode>>();
assertType<Same<SchemaPlan["compress"], CompressorNode | null>>();
assertType<Same<SchemaPlan["outer"], OuterNode | null>>();
assertType<Same<SchemaPlan["network"], NetworkNode | null>>();
assertType<Same<Extract<SchemaPlan["base"], { kind: "gossip" }>["topology"], TopologyNode>>();
assertType<Same<SchemaPlan, Plan>>();

// Every table keyed by kind has exactly the plan's kinds.
assertType<Same<keyof typeof BASE_KINDS, BaseKind>>();
assertType<Same<keyof typeof BASES, BaseKind>>();
assertType<Same<keyof typeof COMPRESSOR_KINDS, CompressorKind>>();
assertType<Same<keyof typeof CHANNELS, CompressorKind>>();
assertType<Same<keyof typeof OUTER_KINDS, OuterKind>>();
assertType<Same<keyof typeof OUTERS, OuterKind>>();

Deno.test("type tests: the schema, the node types and the kind tables agree", () => {
  // The types above are the test; at run time the tables hold one row per kind.
  equal(Object.keys(BASE_KINDS).length, Object.keys(BASES).length);
  equal(Object.keys(COMPRESSOR_KINDS).length, Object.keys(CHANNELS).length);
  equal(Object.keys(OUTER_KINDS).length, Object.keys(OUTERS).length);
});
