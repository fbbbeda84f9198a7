/**
 * CHOCO-SGD, gossip with compressed differences to public copies (docs/algorithms.md §1.9).
 *
 * @module
 */

import type { ChocoGossipNode, CompressorNode } from "../../dsl/plan.ts";
import { period, topologyOver } from "../../topologies/mod.ts";
import type { Neighbors } from "../../topologies/mod.ts";
import type { TopologyNode } from "../../topologies/types.ts";
import type { Communicator, Phase } from "../comm/types.ts";
import { bytesAsFloats, floatsAsBytes } from "../comm/wire.ts";
import { createCodec } from "../compressors/registry.ts";
import type { CompressorOptions } from "../compressors/types.ts";
import { randomStream } from "../random.ts";
import type { BaseAlgorithm, BaseContext } from "./types.ts";
import { checkSameLength } from "./_vector.ts";
import { neighborsByStep } from "./neighbours.ts";

/** How a worker turns `x_i − x̂_i` into the bytes it sends, and back. */
export interface DifferenceCode {
  /** Encodes the difference of step `k` (stochastic codecs draw from the worker's step stream). */
  encode(difference: Float32Array, step: number): Uint8Array;
  /** Adds the decoded code to `target` (a public copy), in float32. */
  addDecoded(code: Uint8Array, target: Float32Array): void;
}

/**
 * The code of `x_i − x̂_i`: the plan's codec (no error feedback: the public copy is CHOCO's
 * memory), or, without a compressor, the float32 values themselves.
 *
 * @param compress The plan's compressor node, or `null` for the identity.
 * @param options The vector length `d` and the plan's steps.
 * @param comm The worker's communicator (its rank names the random stream).
 * @param seed The plan seed.
 * @returns The encoder and decoder.
 * @example The identity code sends the float32 values
 * ```ts
 * import assert from "node:assert/strict";
 * import { differenceCode } from "./choco_gossip.ts";
 * import { createMemoryCommunicators } from "../comm/memory_transport.ts";
 *
 * const [comm] = createMemoryCommunicators(1);
 * const code = differenceCode(null, { d: 2, steps: 1 }, comm!, 0);
 * const bytes = code.encode(Float32Array.of(1.5, -2), 0);
 * assert.equal(bytes.length, 8);
 * const copy = Float32Array.of(1, 1);
 * code.addDecoded(bytes, copy);
 * assert.deepEqual([...copy], [2.5, -1]);
 * ```
 */
export function differenceCode(
  compress: CompressorNode | null,
  options: CompressorOptions,
  comm: Communicator,
  seed: number,
): DifferenceCode {
  const { d } = options;
  if (compress === null) {
    return {
      encode: (difference) => floatsAsBytes(difference.slice()),
      addDecoded(code, target) {
        const values = bytesAsFloats(code);
        checkSameLength(target, values, "a neighbour's difference");
        for (let t = 0; t < d; t++) target[t] = target[t]! + values[t]!;
      },
    };
  }
  const codec = createCodec(compress, options);
  return {
    encode: (difference, step) =>
      codec.encode(difference, { step, random: randomStream(seed, "compress", comm.rank, step) }),
    addDecoded: (code, target) => codec.addDecoded(code, target, 1),
  };
}

/**
 * CHOCO's consensus step: `x_i + gamma · Σ_{j ≠ i} W_ij (x̂_j − x̂_i)` (the self term is zero),
 * summed in float64 in the order given (ascending rank) and rounded to float32 once.
 *
 * @param x This worker's model after its local step.
 * @param gamma The consensus step size.
 * @param own This worker's public copy `x̂_i`.
 * @param copies The in-neighbours' public copies `x̂_j` with their weights `W_ij`.
 * @returns The new model, a fresh vector.
 * @throws {RangeError} When a vector's length differs from `x`'s.
 * @example Two workers, gamma 1/2
 * ```ts
 * import assert from "node:assert/strict";
 * import { chocoConsensus } from "./choco_gossip.ts";
 *
 * const next = chocoConsensus(Float32Array.of(1), 0.5, Float32Array.of(2), [
 *   { weight: 0.5, data: Float32Array.of(6) },
 * ]);
 * assert.deepEqual([...next], [2]); // 1 + 0.5 · 0.5 · (6 − 2)
 * ```
 */
export function chocoConsensus(
  x: Float32Array,
  gamma: number,
  own: Float32Array,
  copies: readonly { readonly weight: number; readonly data: Float32Array }[],
): Float32Array {
  checkSameLength(x, own, "the public copy");
  for (const copy of copies) checkSameLength(x, copy.data, "a neighbour's public copy");
  const out = new Float32Array(x.length);
  for (let t = 0; t < x.length; t++) {
    let sum = 0;
    for (const copy of copies) sum += copy.weight * (copy.data[t]! - own[t]!);
    out[t] = x[t]! + gamma * sum;
  }
  return out;
}

/** The fixed neighbours of `rank` (the validator refuses graphs that change). */
function fixedNeighbours(topology: TopologyNode, n: number, rank: number): Neighbors {
  const steps = period(topology, n);
  if (steps !== 1) {
    throw new RangeError(
      `Cannot run chocoGossip: its public copies need a fixed graph, but ${topology.kind} ` +
        `changes every step (period ${steps})`,
    );
  }
  return neighborsByStep(topology, n, rank)(0);
}

/** Whether the 0/1 mask `over` (by rank) marks exactly `members`. */
function marksExactly(over: Float64Array, members: readonly number[]): boolean {
  return members.length === over.reduce((sum, bit) => sum + bit, 0) &&
    members.every((rank) => over[rank] === 1);
}

/**
 * The `chocoGossip(topology, { gamma })` base, CHOCO-SGD (Koloskova, Stich, Jaggi, ICML 2019,
 * Algorithm 2 with the local step first): at step `k` worker `i` takes `g_i` at `x_i` and moves
 * `x_i ← x_i − γ_k dir_i`; encodes `q_i = C(x_i − x̂_i)` with the plan's codec (float32 values
 * without one) and sends it to every out-neighbour (phase `"compressed"` with a compressor, else
 * `"base"`); adds every decoded `q_j` to its public copy `x̂_j` (its own and its in-neighbours',
 * so every holder of `x̂_j` applies the same codes and the copies agree bit for bit); then
 * `x_i ← x_i + gamma · Σ_j W_ij (x̂_j − x̂_i)`.
 *
 * Each step reports `publicGapNorm`, `‖x_i − x̂_i‖₂` after `x̂_i` took `q_i` (what the code left
 * out, still to be sent: CHOCO's counterpart of error feedback's residual), before the consensus
 * step.
 *
 * State: the model (`chocoGossip.x`) and the public copies (`chocoGossip.public`, float32,
 * `(inDegree + 1) · d` values: `x̂_i` first, then each in-neighbour's in ascending rank), so
 * checkpoints resume bit for bit. An outer algorithm that sets the model leaves the copies as
 * they are: the next codes carry the jump to the neighbours.
 *
 * @param node The `chocoGossip` node.
 * @param context The worker's communicator, `x_0`, optimizer, gradient oracle and plan.
 * @returns The worker's base algorithm; `model()` returns a copy of `x_i`.
 * @throws {RangeError} When the topology does not fit the workers or changes from step to step.
 */
export function chocoGossipBase(node: ChocoGossipNode, context: BaseContext): BaseAlgorithm {
  const { comm, optimizer, gradient, plan } = context;
  const d = context.x0.length;
  const n = comm.size;
  // Elastic plans keep a public copy slot for every rank, so the state's layout never changes
  // when the graph is re-formed over the survivors (a rewind restores it as it was saved).
  const elastic = (plan.elastic ?? null) !== null;
  const code = differenceCode(plan.compress, { d, steps: plan.steps }, comm, plan.seed);
  const phase: Phase = plan.compress === null ? "base" : "compressed";
  const x = context.x0.slice();
  let neighbours = fixedNeighbours(node.topology, n, comm.rank);
  const slots = elastic ? n : neighbours.receiveFrom.length + 1;
  const publicCopies = new Float32Array(slots * d);
  for (let slot = 0; slot < slots; slot++) publicCopies.set(context.x0, slot * d);
  /** The public copy of `rank`'s model (its own rank or an in-neighbour's). */
  const slotOf = (rank: number, index: number) => {
    const slot = elastic ? rank : rank === comm.rank ? 0 : index + 1;
    return publicCopies.subarray(slot * d, (slot + 1) * d);
  };
  const own = slotOf(comm.rank, -1);
  // Elastic plans: the members the copies were last set over (1 per rank), saved with them.
  const over = elastic ? Float64Array.from({ length: n }, () => 1) : null;
  // The graph below is every rank's: a chain made while some are away re-forms it at its first
  // step (a worker joining an elastic run, a run resumed without the workers it lost).
  let formedOver = Array.from({ length: n }, (_, rank) => rank).join();
  let inRanks: number[] = [];
  let outRanks: number[] = [];
  let copies: { weight: number; data: Float32Array }[] = [];
  /** Takes the neighbours of the current graph. */
  function take(graph: Neighbors): void {
    neighbours = graph;
    inRanks = graph.receiveFrom.map((peer) => peer.rank);
    outRanks = graph.sendTo.map((peer) => peer.rank);
    copies = graph.receiveFrom.map((peer, index) => ({
      weight: peer.weight,
      data: slotOf(peer.rank, index),
    }));
  }
  take(neighbours);

  /**
   * Elastic runs: when the members differ from those the copies were set over, re-forms the graph
   * over them (`topologyOver`) and returns true: this step sends the exact model in place of a
   * code, and every copy is set to the model it receives.
   */
  function reform(): boolean {
    const members = comm.members;
    if (members.join() !== formedOver) {
      formedOver = members.join();
      const topology = members.length === n
        ? node.topology
        : topologyOver(node.topology, members, n);
      take(fixedNeighbours(topology, n, comm.rank));
    }
    if (over === null || marksExactly(over, members)) return false;
    over.fill(0);
    for (const rank of members) over[rank] = 1;
    return true;
  }

  // The gradient's buffer, reused every step: nothing keeps it past the step.
  const scratch = new Float32Array(d);
  return {
    async step(k, lr) {
      const reset = reform();
      const { loss, grad } = await gradient(x, scratch);
      const dir = optimizer.direction(grad, x);
      const difference = new Float32Array(d);
      for (let t = 0; t < d; t++) {
        x[t] = x[t]! - lr * dir[t]!;
        difference[t] = x[t]! - own[t]!;
      }
      const mine = reset ? floatsAsBytes(x.slice()) : code.encode(difference, k);
      const received = await comm.neighborExchangeBytes(
        outRanks.map((rank) => ({ rank, data: mine })),
        inRanks,
        reset ? "base" : phase,
      );
      if (reset) own.set(x);
      else code.addDecoded(mine, own);
      // What the code left out, still to be sent: CHOCO's counterpart of error feedback's residual.
      let squares = 0;
      for (let t = 0; t < d; t++) squares += (x[t]! - own[t]!) ** 2;
      for (const [index, rank] of inRanks.entries()) {
        const theirs = received.get(rank);
        if (theirs === undefined) {
          throw new Error(`Cannot run chocoGossip: nothing received from worker ${rank}`);
        }
        const copy = copies[index]!.data;
        if (reset) {
          const values = bytesAsFloats(theirs);
          checkSameLength(copy, values, "a neighbour's model");
          copy.set(values);
        } else code.addDecoded(theirs, copy);
      }
      x.set(chocoConsensus(x, node.gamma, own, copies));
      return { loss, metrics: { publicGapNorm: Math.sqrt(squares) } };
    },
    model: () => x.slice(),
    setModel(value) {
      checkSameLength(x, value, "the new model");
      x.set(value);
    },
    buffers: () => [
      { name: "chocoGossip.x", data: x, momentum: false },
      { name: "chocoGossip.public", data: publicCopies, momentum: false },
      ...(over === null ? [] : [{ name: "chocoGossip.over", data: over, momentum: false }]),
    ],
    resetMomentum() {},
  };
}
