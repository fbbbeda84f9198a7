/**
 * What each algorithm kind is, read from its slot's table: the lookups the validator, the plan
 * explainer and the runtime use (`baseTraits(node)`, typed for that node), which slots combine,
 * and the compatibility table the guide and the algorithm reference show.
 *
 * The facts themselves live in each kind's file (`bases/gossip.ts`, `compressors/qsgd.ts`, …);
 * the DSL's types read their literals (which bases own their momentum) through the tables.
 *
 * @module
 */

import { BASE_KINDS, type BaseKind, type BaseNode } from "./bases/mod.ts";
import { COMPRESSOR_KINDS, type CompressorKind, type CompressorNode } from "./compressors/mod.ts";
import type {
  BaseDefinition,
  CompressorDefinition,
  OptimizerDefinition,
  OuterDefinition,
  Payload,
} from "./kind.ts";
import { OPTIMIZER_KINDS, type OptimizerNode } from "./optimizers/mod.ts";
import { OUTER_KINDS, type OuterKind, type OuterNode } from "./outers/mod.ts";

export type { BaseTraffic, Payload, TrafficContext } from "./kind.ts";
export { FLOAT_BYTES, indexBits, ringAllReduceBytes } from "./wire_bytes.ts";

/**
 * The definition of a base node's kind, typed for that node (the one place the table is
 * indexed by a union).
 *
 * @param node A base node.
 * @returns Its kind's definition.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTraits } from "./traits.ts";
 * import { localSgd } from "./bases/mod.ts";
 * assert.ok(baseTraits(localSgd({ tau: 4 })).syncPeriod(localSgd({ tau: 4 })) === 4);
 * ```
 */
export function baseTraits<N extends BaseNode>(node: N): BaseDefinition<N> {
  return BASE_KINDS[node.kind] as unknown as BaseDefinition<N>;
}

/**
 * The definition of a compressor node's kind.
 *
 * @param node A compressor node.
 * @returns Its kind's definition.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compressorTraits } from "./traits.ts";
 * import { qsgd } from "./compressors/mod.ts";
 * assert.ok(!compressorTraits(qsgd()).linear);
 * ```
 */
export function compressorTraits<N extends CompressorNode>(node: N): CompressorDefinition<N> {
  return COMPRESSOR_KINDS[node.kind] as unknown as CompressorDefinition<N>;
}

/**
 * The definition of an outer node's kind.
 *
 * @param node An outer node.
 * @returns Its kind's definition.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outerTraits } from "./traits.ts";
 * import { slowMo } from "./outers/mod.ts";
 * assert.ok(outerTraits(slowMo({ tau: 4 })).dividesByLr(slowMo({ tau: 4 })) === "slowMo");
 * ```
 */
export function outerTraits<N extends OuterNode>(node: N): OuterDefinition<N> {
  return OUTER_KINDS[node.kind] as unknown as OuterDefinition<N>;
}

/**
 * The definition of an optimizer node's kind.
 *
 * @param node An optimizer node.
 * @returns Its kind's definition.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optimizerTraits } from "./traits.ts";
 * import { adam } from "./optimizers/mod.ts";
 * assert.equal(optimizerTraits(adam({ lr: 0.1 })).momentum, "always");
 * ```
 */
export function optimizerTraits<N extends OptimizerNode>(node: N): OptimizerDefinition<N> {
  return OPTIMIZER_KINDS[node.kind] as unknown as OptimizerDefinition<N>;
}

/** The keys of a slot's table, in table order. */
function kindsOf<K extends string>(table: { readonly [kind in K]: unknown }): K[] {
  return Object.keys(table) as K[];
}

/**
 * The bases that can take a compressor kind: those that send one of the payloads it encodes, in
 * table order.
 *
 * @param kind A compressor kind (or node).
 * @returns Base kinds.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { basesCompressedBy } from "./traits.ts";
 * assert.ok(basesCompressedBy("sketchedSgd").join() === "allReduce");
 * ```
 */
export function basesCompressedBy(kind: CompressorKind | CompressorNode): BaseKind[] {
  const name = typeof kind === "string" ? kind : kind.kind;
  const payloads: readonly Payload[] = COMPRESSOR_KINDS[name].compresses;
  return kindsOf(BASE_KINDS).filter((base) => {
    const payload: Payload | null = BASE_KINDS[base].compresses;
    return payload !== null && payloads.includes(payload);
  });
}

/**
 * The base kinds an outer algorithm may wrap, in table order.
 *
 * @returns Base kinds.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { basesAcceptingOuter } from "./traits.ts";
 * assert.ok(!basesAcceptingOuter().includes("cada"));
 * ```
 */
export function basesAcceptingOuter(): BaseKind[] {
  return kindsOf(BASE_KINDS).filter((kind) => BASE_KINDS[kind].acceptsOuter);
}

/** How a base's topology requirement reads in the table. */
const TOPOLOGY_WORDS = {
  doublyStochastic: "doubly stochastic",
  columnStochastic: "column-stochastic, may be directed",
} as const;

/**
 * Which kinds combine, as a Markdown table with one row per base: its topology, the optimizers
 * it takes, the compressors and the outer algorithms that may go with it. docs/guide.md's
 * "What runs today" and docs/algorithms.md show this table as generated here (a test compares
 * them), so neither can drift from the validator.
 *
 * @returns The table, one line per row, without a trailing newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compatibilityTable } from "./traits.ts";
 * assert.ok(compatibilityTable().includes("| `sgp` | column-stochastic, may be directed |"));
 * ```
 */
export function compatibilityTable(): string {
  const code = (names: readonly string[]) =>
    names.length === 0 ? "—" : names.map((name) => `\`${name}\``).join(", ");
  const outers = kindsOf(OUTER_KINDS) as OuterKind[];
  const rows = kindsOf(BASE_KINDS).map((base) => {
    const { topology, plainSgd, acceptsOuter } = BASE_KINDS[base];
    const compressors = kindsOf(COMPRESSOR_KINDS).filter((kind) =>
      basesCompressedBy(kind).includes(base)
    ).map((kind) => {
      const plain = COMPRESSOR_KINDS[kind].plainSgd === null ? "" : " (sgd without momentum)";
      return `\`${kind}\`${plain}`;
    });
    return [
      `\`${base}\``,
      topology === null ? "—" : TOPOLOGY_WORDS[topology],
      plainSgd === null ? code(kindsOf(OPTIMIZER_KINDS)) : "`sgd` without momentum",
      compressors.length === 0 ? "—" : compressors.join(", "),
      acceptsOuter ? code(outers) : "—",
    ];
  });
  return [
    ["base", "topology", "optimizer", "compress", "outer"],
    ["---", "---", "---", "---", "---"],
    ...rows,
  ].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}
