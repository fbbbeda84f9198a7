/**
 * Explains a plan before it runs: the algorithm chain, the model size, the synchronisation
 * period and the bytes each worker is expected to send per step, per phase. The estimates count
 * payload bytes of the collectives each algorithm uses (ring all-reduce, ring all-gather,
 * neighbour sends), not frame headers; the runtime counts the real bytes on the socket.
 *
 * @module
 */

import { topologyName, topologyNotes } from "../topologies/mod.ts";
import type { CompressorNode, NetworkNode, Plan, ScheduleNode, TopologyNode } from "./plan.ts";
import { type DataShape, dataShape, modelVariables, parameterCount } from "./shapes.ts";
import { type PhaseBytes, zeroBytes } from "./traffic.ts";
import { baseTraits, compressorTraits, outerTraits } from "./traits.ts";
import { ringAllReduceBytes } from "./wire_bytes.ts";
import { type ElasticExplanation, explainElastic } from "./elastic_explain.ts";

export type { ElasticExplanation };

/** What `gossamer plan` prints about a plan. */
export interface PlanExplanation {
  /** One entry per filled slot, in order: data, model, optimizer, base, compress, outer, network. */
  readonly chain: readonly { readonly slot: string; readonly label: string }[];
  /** Model parameters `d`, or `null` when a file or module must be loaded to know it. */
  readonly parameters: number | null;
  /** Steps between exact synchronisations of all workers (`null` for decentralized bases). */
  readonly syncPeriod: number | null;
  /** How the workers agree, in words (exact averages, fragments in turn, sparse codes). */
  readonly synchronisation: string;
  /** Estimated mean bytes sent per worker per step, by phase; `null` when `d` is unknown. */
  readonly bytesPerStep: PhaseBytes | null;
  /** The same for plain all-reduce SGD, the reference the savings are measured against. */
  readonly allReduceBytesPerStep: number | null;
  /**
   * The most bytes a worker sends in one outer synchronisation, for outers whose syncs differ in
   * size (Streaming DiLoCo's fragments); absent otherwise.
   */
  readonly peakSyncBytes?: number;
  /** Remarks: bounds, assumptions. */
  readonly notes: readonly string[];
  /** How an elastic plan shrinks, grows and reacts to its declared failures; absent otherwise. */
  readonly elastic?: ElasticExplanation;
}

/**
 * Encoded bytes of one compressed vector of `d` values (docs/algorithms.md §3), exactly as the
 * compressor's codec writes them: QSGD packs sign and level in `1 + ⌈log2(s+1)⌉` bits plus one
 * float32 norm per bucket; DQ-SGD spends `budgetBits` on average; top-k sends `k` float32
 * values and `k` indices of `⌈log2 d⌉` bits. Count sketches are summed, not gathered, so their
 * size is `rows × cols` floats.
 *
 * @param compressor The compressor node.
 * @param d The vector length.
 * @returns Bytes of one encoded vector.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compressedBytes } from "./explain.ts";
 * import { qsgd } from "./compressors/mod.ts";
 * // 1024 values at 1 + 2 bits, two bucket norms:
 * assert.ok(compressedBytes(qsgd({ levels: 3, bucket: 512 }), 1024) === 384 + 8);
 * ```
 */
export function compressedBytes(compressor: CompressorNode, d: number): number {
  return compressorTraits(compressor).wireBytes(compressor, d);
}

/** Bytes per worker per step of the base, possibly compressed. */
function baseBytes(plan: Plan, d: number, notes: string[]): PhaseBytes {
  const n = plan.workers;
  const { base, compress, outer } = plan;
  const traffic = baseTraits(base).traffic(base, {
    d,
    n,
    compressedExchange: compress === null
      ? null
      : compressorTraits(compress).exchangeBytes(compress, d, n),
    compressedCode: compress === null ? null : compressorTraits(compress).wireBytes(compress, d),
    outerTau: outer?.tau ?? null,
  });
  if (traffic.note !== undefined) notes.push(traffic.note);
  return { ...zeroBytes(), base: traffic.base, compressed: traffic.compressed };
}

/** How the workers agree, in words: the outer's own account, else from the sync period. */
function synchronisationOf(plan: Plan): string {
  const own = plan.outer === null ? undefined : outerTraits(plan.outer).synchronisation;
  if (own !== undefined && plan.outer !== null) return own(plan.outer);
  const period = syncPeriodOf(plan);
  return period === null
    ? "decentralized, workers agree only approximately (no exact average)"
    : period === 1
    ? "exact average every step"
    : `exact average every ${period} steps`;
}

/** Steps between exact synchronisations, or `null` when workers never agree exactly. */
function syncPeriodOf(plan: Plan): number | null {
  if (plan.outer !== null) return plan.outer.tau;
  return baseTraits(plan.base).syncPeriod(plan.base);
}

/**
 * The algorithm chain of a plan as its kinds: the base, then the compressor and the outer
 * algorithm when set. Run summaries, run-folder names and tables all name a run this way.
 *
 * @param plan A plan.
 * @returns The kinds, in slot order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { algorithmKinds } from "./explain.ts";
 * import { allReduce, linear, sgd, synthetic, topK, train } from "../mod.ts";
 * const plan = train(linear({ dim: 4 })).data(synthetic({ task: "regression", features: 4 }))
 *   .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compress(topK({ k: 2 })).compile();
 * assert.ok(algorithmKinds(plan).join(" + ") === "allReduce + topK");
 * ```
 */
export function algorithmKinds(plan: Plan): string[] {
  return [plan.base, plan.compress, plan.outer].flatMap((node) => node === null ? [] : [node.kind]);
}

/** A compact label for a schedule. */
function scheduleLabel(schedule: ScheduleNode): string {
  switch (schedule.kind) {
    case "constant":
      return String(schedule.lr);
    case "stepDecay":
      return `stepDecay(${schedule.lr}×${schedule.factor} every ${schedule.every})`;
    case "cosine":
      return `cosine(${schedule.lr}→${schedule.minLr}${
        schedule.steps === null ? "" : ` over ${schedule.steps}`
      })`;
    case "warmup":
      return `warmup(${schedule.steps}, then ${scheduleLabel(schedule.then)})`;
  }
}

/** `kind(key=value, …)` for a node, with topologies and schedules shown by their labels. */
export function nodeLabel(node: { readonly kind: string }): string {
  const fields = Object.entries(node as Record<string, unknown>)
    .filter(([key]) => key !== "kind")
    .map(([key, value]) => {
      if (key === "topology") return topologyName(value as TopologyNode);
      if (key === "lr" && typeof value === "object") {
        return `lr=${scheduleLabel(value as ScheduleNode)}`;
      }
      if (key === "partition" && typeof value === "object") {
        return `partition=${nodeLabel(value as { kind: string })}`;
      }
      return `${key}=${typeof value === "object" ? JSON.stringify(value) : String(value)}`;
    });
  return `${node.kind}(${fields.join(", ")})`;
}

/** A network's label; its declared failures are explained on their own (`elastic_explain.ts`). */
function networkLabel(network: NetworkNode): string {
  const { failures, ...rest } = network;
  const label = nodeLabel(rest);
  return (failures ?? []).length === 0
    ? label
    : `${label}, ${failures.length} declared failure${failures.length === 1 ? "" : "s"}`;
}

/** What the data feeds the model, in words: `classification, 784 features, 10 classes`. */
function shapeLabel(shape: DataShape): string {
  if (shape.task === "language") return `language, vocabulary ${shape.classes}`;
  const features = `${shape.task}, ${shape.features ?? "?"} features`;
  return shape.task === "classification"
    ? `${features}, ${shape.classes ?? "?"} classes`
    : features;
}

/**
 * Explains a plan: algorithm chain, parameters, synchronisation period and estimated bytes per
 * worker per step.
 *
 * @param plan A valid plan.
 * @param loaded The sizes of the model's variables, in order, when the caller loaded the data
 *   file or model module that the plan alone cannot size (a custom model, `tensors` data of
 *   unknown width): the bytes are then estimated as for a built-in model.
 * @returns The explanation.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduce, explainPlan, linear, sgd, synthetic, train } from "../mod.ts";
 * const plan = train(linear({ dim: 10 }))
 *   .data(synthetic({ task: "regression", features: 10 }))
 *   .workers(4).optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
 * // ring all-reduce: 2(n−1)/n · d · 4 bytes = 1.5 · 10 · 4
 * assert.ok(explainPlan(plan).bytesPerStep?.base === 60);
 * ```
 */
export function explainPlan(
  plan: Plan,
  loaded?: { readonly variables: readonly number[] },
): PlanExplanation {
  const d = loaded === undefined
    ? parameterCount(plan.model, plan.data)
    : loaded.variables.reduce((sum, size) => sum + size, 0);
  const notes = "topology" in plan.base ? topologyNotes(plan.base.topology, plan.workers) : [];
  const shape = dataShape(plan.data);
  const chain = [
    {
      slot: "data",
      label: `${nodeLabel(plan.data)} → ${shapeLabel(shape)}`,
    },
    { slot: "model", label: nodeLabel(plan.model) },
    { slot: "optimizer", label: nodeLabel(plan.optimizer) },
    {
      slot: "base",
      label: `${nodeLabel(plan.base)} on ${plan.workers} worker${plan.workers === 1 ? "" : "s"}`,
    },
    ...(plan.compress === null ? [] : [{ slot: "compress", label: nodeLabel(plan.compress) }]),
    ...(plan.outer === null ? [] : [{ slot: "outer", label: nodeLabel(plan.outer) }]),
    ...(plan.network === null ? [] : [{ slot: "network", label: networkLabel(plan.network) }]),
  ];
  const elastic = explainElastic(plan);
  const elasticPart = elastic === null ? {} : { elastic };
  if (d === null) {
    notes.push("model size is known only once the data file or model module is loaded");
    return {
      chain,
      parameters: null,
      syncPeriod: syncPeriodOf(plan),
      synchronisation: synchronisationOf(plan),
      bytesPerStep: null,
      allReduceBytesPerStep: null,
      notes,
      ...elasticPart,
    };
  }
  const base = baseBytes(plan, d, notes);
  const variables = loaded?.variables ?? modelVariables(plan.model, plan.data) ?? [d];
  const outer = plan.outer === null
    ? 0
    : outerTraits(plan.outer).traffic(plan.outer, d, plan.workers, variables);
  const peak = plan.outer === null
    ? undefined
    : outerTraits(plan.outer).peakSyncBytes?.(plan.outer, plan.workers, variables);
  return {
    chain,
    parameters: d,
    syncPeriod: syncPeriodOf(plan),
    synchronisation: synchronisationOf(plan),
    bytesPerStep: { ...base, outer },
    allReduceBytesPerStep: ringAllReduceBytes(d, plan.workers),
    ...(peak === undefined ? {} : { peakSyncBytes: peak }),
    notes,
    ...elasticPart,
  };
}
