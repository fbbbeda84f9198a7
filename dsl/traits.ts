/**
 * What each algorithm kind is, in one place: the traits tables of the base, compressor and outer
 * slots. The validator's cross-slot rules, the plan explainer, the DSL's types and the runtime
 * all read these rows instead of keeping their own sets and switches, so a fact about a kind is
 * written once.
 *
 * The tables are mapped types over the plan's kind unions (`{ [K in BaseKind]: … }`), so a new
 * node kind fails `deno check` until it has a row here, and each row's functions receive the
 * node of their own kind. The rows are declared `as const`, so the DSL's types can read literal
 * facts from them (which bases own their momentum).
 *
 * @module
 */

import { neighbors, period } from "../topologies/mod.ts";
import type {
  BaseKind,
  BaseNode,
  BaseNodeOf,
  CompressorKind,
  CompressorNode,
  CompressorNodeOf,
  OuterKind,
  OuterNode,
  OuterNodeOf,
  TopologyNode,
} from "./plan.ts";

/** Bytes of one float32 value on the wire. */
export const FLOAT_BYTES = 4;

/**
 * What a base sends that a compressor can encode (docs/algorithms.md §3): the gradient
 * (`allReduce`), the model difference since the last synchronisation (`localSgd`) or the model
 * itself (gossip family).
 */
export type Payload = "gradient" | "modelDifference" | "model";

/** What the explainer needs to estimate a base's traffic. */
export interface TrafficContext {
  /** Model parameters. */
  readonly d: number;
  /** Workers. */
  readonly n: number;
  /** Bytes each worker sends for one compressed exchange of `d` values, when a compressor is set. */
  readonly compressedExchange: number | null;
  /** The outer algorithm's period, when one is set. */
  readonly outerTau: number | null;
}

/** Mean bytes a worker sends per step in the base's phases. */
export interface BaseTraffic {
  /** Uncompressed traffic of the base (phase `base`). */
  readonly base: number;
  /** Compressed codes (phase `compressed`). */
  readonly compressed: number;
  /** A remark on the estimate, when it is a bound rather than an expectation. */
  readonly note?: string;
}

/** Facts about one base kind. */
export interface BaseTraits<N extends BaseNode> {
  /**
   * The mixing matrices the base's topology must have: doubly stochastic (gossip family),
   * column-stochastic with a positive diagonal (push-sum), or `null` for bases without one.
   */
  readonly topology: "doublyStochastic" | "columnStochastic" | null;
  /** Workers hold different models between synchronisations: each one's own is evaluated too. */
  readonly decentralized: boolean;
  /**
   * The base carries a momentum of its own (`beta`), so the optimizer must not add one; the
   * DSL's types read this to reject `sgd` with momentum at compile time.
   */
  readonly ownsMomentum: boolean;
  /** Why the optimizer must be plain SGD without momentum, or `null` when any optimizer fits. */
  readonly plainSgd: string | null;
  /** Whether an outer algorithm (slowMo, bmuf) may wrap the base. */
  readonly acceptsOuter: boolean;
  /** What a compressor would encode, or `null` when the base takes no compressor. */
  readonly compresses: Payload | null;
  /** The name shown when the update divides by `γ_k` (so it must stay positive), else `null`. */
  readonly dividesByLr: (node: N) => string | null;
  /** Steps between exact averages of all workers without an outer algorithm; `null`: never. */
  readonly syncPeriod: (node: N) => number | null;
  /** Mean bytes a worker sends per step (payload of the collectives, no frame headers). */
  readonly traffic: (node: N, context: TrafficContext) => BaseTraffic;
}

/** Facts about one compressor kind. */
export interface CompressorTraits<N extends CompressorNode> {
  /** The payloads it can encode; the bases that send one of them accept it. */
  readonly compresses: readonly Payload[];
  /**
   * Codes can be summed before decoding (a count sketch): aggregated by all-reduce. Otherwise
   * every rank's code is all-gathered and decoded in rank order.
   */
  readonly linear: boolean;
  /** Why the optimizer must be plain SGD without momentum, or `null`. */
  readonly plainSgd: string | null;
  /**
   * Whether the codec is wrapped in error feedback (`e += p; send C(e); e −= C(e)`,
   * docs/algorithms.md §3.4), so what is not sent now is sent later.
   */
  readonly errorFeedback: (node: N) => boolean;
  /**
   * Bytes of one encoded vector of `d` values, exactly as the codec writes them (for DQ-SGD,
   * whose width changes per step, the mean at the budget).
   */
  readonly wireBytes: (node: N, d: number) => number;
  /** Bytes a worker sends for one compressed exchange of `d` values among `n` workers. */
  readonly exchangeBytes: (node: N, d: number, n: number) => number;
}

/** Facts about one outer kind. */
export interface OuterTraits<N extends OuterNode> {
  /** The name shown when the outer step divides by `γ_k`, else `null`. */
  readonly dividesByLr: (node: N) => string | null;
}

/**
 * The bases that carry their own momentum (`beta`), as a type: the DSL's types reject `sgd` with
 * momentum beside them at compile time, and {@linkcode BASE_TRAITS}'s rows must say the same
 * (its type makes `ownsMomentum` the literal `true` exactly for these kinds).
 */
export type MomentumBaseKind = "dmSgd" | "decentLaM";

/** The type of {@linkcode BASE_TRAITS}: one row per base kind, each typed for its node. */
export type BaseTraitsTable = {
  readonly [K in BaseKind]:
    & BaseTraits<BaseNodeOf<K>>
    & { readonly ownsMomentum: K extends MomentumBaseKind ? true : false };
};

/** The type of {@linkcode COMPRESSOR_TRAITS}. */
export type CompressorTraitsTable = {
  readonly [K in CompressorKind]: CompressorTraits<CompressorNodeOf<K>>;
};

/** The type of {@linkcode OUTER_TRAITS}. */
export type OuterTraitsTable = { readonly [K in OuterKind]: OuterTraits<OuterNodeOf<K>> };

/**
 * Bytes one worker sends in a ring all-reduce of `count` floats: `2(n−1)/n · 4 · count`.
 *
 * @param count Floats reduced.
 * @param n Workers.
 * @returns Bytes, 0 for one worker.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ringAllReduceBytes } from "./traits.ts";
 * assert.ok(ringAllReduceBytes(10, 4) === 60);
 * ```
 */
export function ringAllReduceBytes(count: number, n: number): number {
  return n <= 1 ? 0 : 2 * (n - 1) / n * count * FLOAT_BYTES;
}

/** Bytes one worker sends in an all-gather of `bytes` from every rank (direct sends). */
function allGatherBytes(bytes: number, n: number): number {
  return (n - 1) * bytes;
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

/** A gossip-family row's traffic: the model (plus `extra` floats) to every out-neighbour. */
function neighbourTraffic(extraFloats: number) {
  return (node: { readonly topology: TopologyNode }, { d, n }: TrafficContext): BaseTraffic => ({
    base: meanOutDegree(node.topology, n) * (d + extraFloats) * FLOAT_BYTES,
    compressed: 0,
  });
}

/** Exact averages on a complete graph only. */
const exactOnComplete = (node: { readonly topology: TopologyNode }) =>
  node.topology.kind === "complete" ? 1 : null;

const never = () => null;

/**
 * Facts about every base kind. Keys are in the order the bases are listed in messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BASE_TRAITS } from "./traits.ts";
 * assert.ok(BASE_TRAITS.dmSgd.ownsMomentum && BASE_TRAITS.sgp.decentralized);
 * ```
 */
export const BASE_TRAITS: BaseTraitsTable = {
  allReduce: {
    topology: null,
    decentralized: false,
    ownsMomentum: false,
    plainSgd: null,
    acceptsOuter: true,
    compresses: "gradient",
    dividesByLr: never,
    syncPeriod: () => 1,
    traffic: (_node, { d, n, compressedExchange }) =>
      compressedExchange === null
        ? { base: ringAllReduceBytes(d, n), compressed: 0 }
        : { base: 0, compressed: compressedExchange },
  },
  localSgd: {
    topology: null,
    decentralized: false,
    ownsMomentum: false,
    plainSgd: null,
    acceptsOuter: true,
    compresses: "modelDifference",
    dividesByLr: never,
    syncPeriod: (node) => node.tau,
    traffic: (node, { d, n, compressedExchange, outerTau }) => {
      // A sync point that is also an outer step is skipped: the outer step averages anyway.
      const syncsPerStep = 1 / node.tau - (outerTau === null ? 0 : 1 / outerTau);
      return compressedExchange === null
        ? { base: ringAllReduceBytes(d, n) * syncsPerStep, compressed: 0 }
        : { base: 0, compressed: compressedExchange * syncsPerStep };
    },
  },
  gossip: {
    topology: "doublyStochastic",
    decentralized: true,
    ownsMomentum: false,
    plainSgd: null,
    acceptsOuter: true,
    compresses: null,
    dividesByLr: never,
    syncPeriod: exactOnComplete,
    traffic: neighbourTraffic(0),
  },
  sgp: {
    topology: "columnStochastic",
    decentralized: true,
    ownsMomentum: false,
    plainSgd: null,
    acceptsOuter: true,
    compresses: null,
    dividesByLr: never,
    syncPeriod: exactOnComplete,
    // The push-sum weight travels as one more float.
    traffic: neighbourTraffic(1),
  },
  dmSgd: {
    topology: "doublyStochastic",
    decentralized: true,
    ownsMomentum: true,
    plainSgd: "dmSgd carries its own momentum (beta)",
    acceptsOuter: true,
    compresses: null,
    dividesByLr: never,
    syncPeriod: exactOnComplete,
    traffic: neighbourTraffic(0),
  },
  decentLaM: {
    topology: "doublyStochastic",
    decentralized: true,
    ownsMomentum: true,
    plainSgd: "decentLaM carries its own momentum (beta)",
    acceptsOuter: true,
    compresses: null,
    dividesByLr: () => "decentLaM",
    syncPeriod: exactOnComplete,
    traffic: neighbourTraffic(0),
  },
  overlapLocalSgd: {
    topology: null,
    decentralized: false,
    ownsMomentum: false,
    plainSgd: null,
    acceptsOuter: false,
    compresses: null,
    dividesByLr: (node) => node.beta > 0 ? "overlapLocalSgd with beta > 0" : null,
    syncPeriod: (node) => node.tau,
    traffic: (node, { d, n }) => ({ base: ringAllReduceBytes(d, n) / node.tau, compressed: 0 }),
  },
  cada: {
    topology: null,
    decentralized: false,
    ownsMomentum: false,
    plainSgd:
      "cada applies its own Adam update and takes only the learning rate from the optimizer",
    acceptsOuter: false,
    compresses: null,
    dividesByLr: never,
    syncPeriod: () => 1,
    // Rank 0 broadcasts θ to n−1 workers; each of the n−1 others uploads at most d floats.
    traffic: (_node, { d, n }) => ({
      base: 2 * (n - 1) * d * FLOAT_BYTES / n,
      compressed: 0,
      note: "cada: upper bound, every worker uploading every step; skipped uploads send nothing",
    }),
  },
};

/**
 * QSGD's bytes: one float32 norm per bucket, a sign bit per value, and `levelBits` bits per
 * value for its level (`⌈log2(s+1)⌉`; DQ-SGD's mean width at its budget).
 */
function quantizedBytes(levelBits: number, bucket: number, d: number): number {
  return Math.ceil(d / bucket) * FLOAT_BYTES + Math.ceil(d / 8) + Math.ceil(d * levelBits / 8);
}

/**
 * Bits per top-k index: enough for `0..d−1`, at least 1.
 *
 * @param d The vector length.
 * @returns `max(1, ⌈log2 d⌉)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexBits } from "./traits.ts";
 * assert.ok(indexBits(1024) === 10 && indexBits(1025) === 11 && indexBits(1) === 1);
 * ```
 */
export function indexBits(d: number): number {
  return Math.max(1, Math.ceil(Math.log2(d)));
}

/** Bytes all-gathered per exchange: every other rank gets this rank's code. */
const gathered = <N extends CompressorNode>(wire: (node: N, d: number) => number) =>
(
  node: N,
  d: number,
  n: number,
) => allGatherBytes(wire(node, d), n);

const qsgdWire = (node: Extract<CompressorNode, { kind: "qsgd" }>, d: number) =>
  quantizedBytes(Math.ceil(Math.log2(node.levels + 1)), node.bucket, d);
const dqSgdWire = (node: Extract<CompressorNode, { kind: "dqSgd" }>, d: number) =>
  quantizedBytes(node.budgetBits, node.bucket, d);
// k float32 values, then k ascending indices bit-packed at ⌈log2 d⌉ bits each.
const topKWire = (node: Extract<CompressorNode, { kind: "topK" }>, d: number) =>
  node.k * FLOAT_BYTES + Math.ceil(node.k * indexBits(d) / 8);
const sketchWire = (node: Extract<CompressorNode, { kind: "sketchedSgd" }>) =>
  node.rows * node.cols * FLOAT_BYTES;

/**
 * Facts about every compressor kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COMPRESSOR_TRAITS } from "./traits.ts";
 * import { topK } from "./compress.ts";
 * // 10 float32 values and 10 indices of ⌈log2 1000⌉ = 10 bits.
 * assert.ok(COMPRESSOR_TRAITS.topK.wireBytes(topK({ k: 10 }), 1000) === 40 + 13);
 * ```
 */
export const COMPRESSOR_TRAITS: CompressorTraitsTable = {
  qsgd: {
    compresses: ["gradient", "modelDifference"],
    linear: false,
    plainSgd: null,
    errorFeedback: () => false,
    wireBytes: qsgdWire,
    exchangeBytes: gathered(qsgdWire),
  },
  dqSgd: {
    compresses: ["gradient", "modelDifference"],
    linear: false,
    plainSgd: null,
    errorFeedback: () => false,
    wireBytes: dqSgdWire,
    exchangeBytes: gathered(dqSgdWire),
  },
  sketchedSgd: {
    compresses: ["gradient"],
    linear: true,
    plainSgd: "sketchedSgd applies its own momentum (rho)",
    // Its error accumulation is part of the algorithm (§3.3), not a wrapper.
    errorFeedback: () => false,
    wireBytes: sketchWire,
    // The summed sketch, then (p2 > 0) the exact values of the p2·k candidates.
    exchangeBytes: (node, _d, n) =>
      ringAllReduceBytes(node.rows * node.cols, n) +
      ringAllReduceBytes(Math.ceil(node.p2 * node.k), n),
  },
  topK: {
    compresses: ["gradient", "modelDifference"],
    linear: false,
    plainSgd: null,
    errorFeedback: (node) => node.errorFeedback,
    wireBytes: topKWire,
    exchangeBytes: gathered(topKWire),
  },
};

/**
 * Facts about every outer kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outerTraits } from "./traits.ts";
 * import { bmuf } from "./outer.ts";
 * const node = bmuf({ tau: 4 });
 * assert.ok(outerTraits(node).dividesByLr(node) === null);
 * ```
 */
export const OUTER_TRAITS: OuterTraitsTable = {
  slowMo: { dividesByLr: () => "slowMo" },
  bmuf: { dividesByLr: never },
};

/**
 * The traits row of a base node, typed for that node (the one place the table is indexed by a
 * union).
 *
 * @param node A base node.
 * @returns Its kind's row.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseTraits } from "./traits.ts";
 * import { localSgd } from "./base.ts";
 * assert.ok(baseTraits(localSgd({ tau: 4 })).syncPeriod(localSgd({ tau: 4 })) === 4);
 * ```
 */
export function baseTraits<N extends BaseNode>(node: N): BaseTraits<N> {
  return BASE_TRAITS[node.kind] as unknown as BaseTraits<N>;
}

/**
 * The traits row of a compressor node.
 *
 * @param node A compressor node.
 * @returns Its kind's row.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compressorTraits } from "./traits.ts";
 * import { qsgd } from "./compress.ts";
 * assert.ok(!compressorTraits(qsgd()).linear);
 * ```
 */
export function compressorTraits<N extends CompressorNode>(node: N): CompressorTraits<N> {
  return COMPRESSOR_TRAITS[node.kind] as unknown as CompressorTraits<N>;
}

/**
 * The traits row of an outer node.
 *
 * @param node An outer node.
 * @returns Its kind's row.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outerTraits } from "./traits.ts";
 * import { slowMo } from "./outer.ts";
 * assert.ok(outerTraits(slowMo({ tau: 4 })).dividesByLr(slowMo({ tau: 4 })) === "slowMo");
 * ```
 */
export function outerTraits<N extends OuterNode>(node: N): OuterTraits<N> {
  return OUTER_TRAITS[node.kind] as unknown as OuterTraits<N>;
}

/**
 * The bases that can take a compressor: those that send one of the payloads it encodes, in
 * table order.
 *
 * @param node A compressor node.
 * @returns Base kinds.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { basesCompressedBy } from "./traits.ts";
 * import { sketchedSgd } from "./compress.ts";
 * assert.ok(basesCompressedBy(sketchedSgd({ k: 4 })).join() === "allReduce");
 * ```
 */
export function basesCompressedBy(node: CompressorNode): BaseKind[] {
  const payloads: readonly Payload[] = compressorTraits(node).compresses;
  return (Object.keys(BASE_TRAITS) as BaseKind[]).filter((kind) => {
    const payload: Payload | null = BASE_TRAITS[kind].compresses;
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
  return (Object.keys(BASE_TRAITS) as BaseKind[]).filter((kind) => BASE_TRAITS[kind].acceptsOuter);
}
