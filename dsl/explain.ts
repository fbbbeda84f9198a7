/**
 * Explains a plan before it runs: the algorithm chain, the model size, the synchronisation
 * period and the bytes each worker is expected to send per step, per phase. The estimates count
 * payload bytes of the collectives each algorithm uses (ring all-reduce, ring all-gather,
 * neighbour sends), not frame headers; the runtime counts the real bytes on the socket.
 *
 * @module
 */

import { neighbors, period, topologyName } from "../topologies/mod.ts";
import type { BaseNode, CompressorNode, Plan, ScheduleNode, TopologyNode } from "./plan.ts";
import { dataShape, parameterCount } from "./shapes.ts";

/** Bytes of one float32 value on the wire. */
const FLOAT_BYTES = 4;

/** Per-worker bytes sent per step, by phase (the phases the runtime reports). */
export interface PhaseBytes {
  readonly base: number;
  readonly outer: number;
  readonly compressed: number;
  readonly control: number;
}

/** What `gossamer plan` prints about a plan. */
export interface PlanExplanation {
  /** One entry per filled slot, in order: data, model, optimizer, base, compress, outer, network. */
  readonly chain: readonly { readonly slot: string; readonly label: string }[];
  /** Model parameters `d`, or `null` when a file or module must be loaded to know it. */
  readonly parameters: number | null;
  /** Steps between exact synchronisations of all workers (`null` for decentralized bases). */
  readonly syncPeriod: number | null;
  /** Estimated mean bytes sent per worker per step, by phase; `null` when `d` is unknown. */
  readonly bytesPerStep: PhaseBytes | null;
  /** The same for plain all-reduce SGD, the reference the savings are measured against. */
  readonly allReduceBytesPerStep: number | null;
  /** Remarks: bounds, assumptions. */
  readonly notes: readonly string[];
}

/** Bytes one worker sends in a ring all-reduce of `count` floats. */
export function ringAllReduceBytes(count: number, n: number): number {
  return n <= 1 ? 0 : 2 * (n - 1) / n * count * FLOAT_BYTES;
}

/** Bytes one worker sends in a ring all-gather of `n` messages of `bytes` each. */
function allGatherBytes(bytes: number, n: number): number {
  return (n - 1) * bytes;
}

/**
 * Encoded bytes of one compressed vector of `d` values (ALGORITHMS.md §3): QSGD packs sign and
 * level in `1 + ⌈log2(s+1)⌉` bits plus one float32 norm per bucket; DQ-SGD spends `budgetBits`
 * on average; top-k sends a float32 value and a uint32 index per kept value. Count sketches are
 * summed, not gathered, so their size is `rows × cols` floats.
 *
 * @param compressor The compressor node.
 * @param d The vector length.
 * @returns Bytes of one encoded vector.
 * @example
 * ```ts
 * import { compressedBytes } from "./explain.ts";
 * import { qsgd } from "./compress.ts";
 * // 1024 values at 1 + 2 bits, two bucket norms:
 * console.assert(compressedBytes(qsgd({ levels: 3, bucket: 512 }), 1024) === 384 + 8);
 * ```
 */
export function compressedBytes(compressor: CompressorNode, d: number): number {
  switch (compressor.kind) {
    case "qsgd":
      return Math.ceil(d * (1 + Math.ceil(Math.log2(compressor.levels + 1))) / 8) +
        Math.ceil(d / compressor.bucket) * FLOAT_BYTES;
    case "dqSgd":
      return Math.ceil(d * (1 + compressor.budgetBits) / 8) +
        Math.ceil(d / compressor.bucket) * FLOAT_BYTES;
    case "topK":
      return compressor.k * 2 * FLOAT_BYTES;
    case "sketchedSgd":
      return compressor.rows * compressor.cols * FLOAT_BYTES;
  }
}

/** Mean number of out-neighbours per worker per step over one period of the topology. */
function meanOutDegree(topology: TopologyNode, n: number): number {
  const steps = period(topology, n);
  let total = 0;
  for (let step = 0; step < steps; step++) {
    for (let rank = 0; rank < n; rank++) total += neighbors(topology, n, rank, step).sendTo.length;
  }
  return total / (steps * n);
}

/** Bytes per worker per step of the base, possibly compressed. */
function baseBytes(plan: Plan, d: number, notes: string[]): PhaseBytes {
  const n = plan.workers;
  const { base, compress } = plan;
  const zero = { base: 0, outer: 0, compressed: 0, control: 0 };
  switch (base.kind) {
    case "allReduce":
      if (compress === null) return { ...zero, base: ringAllReduceBytes(d, n) };
      if (compress.kind === "sketchedSgd") {
        const sketch = ringAllReduceBytes(compress.rows * compress.cols, n);
        const exact = ringAllReduceBytes(Math.ceil(compress.p2 * compress.k), n);
        return { ...zero, compressed: sketch + exact };
      }
      return { ...zero, compressed: allGatherBytes(compressedBytes(compress, d), n) };
    case "localSgd":
      if (compress === null) return { ...zero, base: ringAllReduceBytes(d, n) / base.tau };
      return {
        ...zero,
        compressed: allGatherBytes(compressedBytes(compress, d), n) / base.tau,
      };
    case "overlapLocalSgd":
      return { ...zero, base: ringAllReduceBytes(d, n) / base.tau };
    case "gossip":
    case "dmSgd":
    case "decentLaM":
      return { ...zero, base: meanOutDegree(base.topology, n) * d * FLOAT_BYTES };
    case "sgp":
      return { ...zero, base: meanOutDegree(base.topology, n) * (d + 1) * FLOAT_BYTES };
    case "cada": {
      notes.push(
        "cada: upper bound, every worker uploading every step; skipped uploads send nothing",
      );
      // Rank 0 broadcasts θ to n−1 workers; each of the n−1 others uploads at most d floats.
      return { ...zero, base: 2 * (n - 1) * d * FLOAT_BYTES / n };
    }
  }
}

/** Steps between exact synchronisations, or `null` when workers never agree exactly. */
function syncPeriodOf(plan: Plan): number | null {
  if (plan.outer !== null) return plan.outer.tau;
  const base: BaseNode = plan.base;
  switch (base.kind) {
    case "allReduce":
    case "cada":
      return 1;
    case "localSgd":
    case "overlapLocalSgd":
      return base.tau;
    default:
      return base.topology.kind === "complete" ? 1 : null;
  }
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
      if (key === "partition") return `partition=${nodeLabel(value as { kind: string })}`;
      return `${key}=${typeof value === "object" ? JSON.stringify(value) : String(value)}`;
    });
  return `${node.kind}(${fields.join(", ")})`;
}

/**
 * Explains a plan: algorithm chain, parameters, synchronisation period and estimated bytes per
 * worker per step.
 *
 * @param plan A valid plan.
 * @returns The explanation.
 * @example
 * ```ts
 * import { allReduce, explainPlan, linear, sgd, synthetic, train } from "../mod.ts";
 * const plan = train(linear({ dim: 10 }))
 *   .data(synthetic({ task: "regression", features: 10 }))
 *   .workers(4).optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
 * // ring all-reduce: 2(n−1)/n · d · 4 bytes = 1.5 · 10 · 4
 * console.assert(explainPlan(plan).bytesPerStep?.base === 60);
 * ```
 */
export function explainPlan(plan: Plan): PlanExplanation {
  const d = parameterCount(plan.model, plan.data);
  const notes: string[] = [];
  const shape = dataShape(plan.data);
  const chain = [
    {
      slot: "data",
      label: `${nodeLabel(plan.data)} → ${shape.task}, ${shape.features ?? "?"} features${
        shape.task === "classification" ? `, ${shape.classes} classes` : ""
      }`,
    },
    { slot: "model", label: nodeLabel(plan.model) },
    { slot: "optimizer", label: nodeLabel(plan.optimizer) },
    {
      slot: "base",
      label: `${nodeLabel(plan.base)} on ${plan.workers} worker${plan.workers === 1 ? "" : "s"}`,
    },
    ...(plan.compress === null ? [] : [{ slot: "compress", label: nodeLabel(plan.compress) }]),
    ...(plan.outer === null ? [] : [{ slot: "outer", label: nodeLabel(plan.outer) }]),
    ...(plan.network === null ? [] : [{ slot: "network", label: nodeLabel(plan.network) }]),
  ];
  if (d === null) {
    notes.push("model size is known only once the data file or model module is loaded");
    return {
      chain,
      parameters: null,
      syncPeriod: syncPeriodOf(plan),
      bytesPerStep: null,
      allReduceBytesPerStep: null,
      notes,
    };
  }
  const base = baseBytes(plan, d, notes);
  const outer = plan.outer === null ? 0 : ringAllReduceBytes(d, plan.workers) / plan.outer.tau;
  return {
    chain,
    parameters: d,
    syncPeriod: syncPeriodOf(plan),
    bytesPerStep: { ...base, outer },
    allReduceBytesPerStep: ringAllReduceBytes(d, plan.workers),
    notes,
  };
}
