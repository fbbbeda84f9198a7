/**
 * One worker's training loop, the same whatever the transport: broadcast `x_0` from rank 0
 * (or restore a checkpoint), then for every step sample the batch, run the step driver
 * (`algorithms/chain.ts`: optimizer, base, compressor, outer) and emit a metrics line; evaluate
 * every `evalEvery` steps and after the last; save a checkpoint when asked. In an elastic run
 * (`membership.ts`) a worker declared to leave stops before the step it leaves at, and the
 * survivors narrow their communicator to the live workers before that step; a worker declared to
 * join again skips to its return and takes a live worker's state there.
 *
 * @module
 */

import type { Plan } from "../../dsl/plan.ts";
import { type PhaseBytes, PHASES, totalBytes, zeroBytes } from "../../dsl/traffic.ts";
import { baseTraits } from "../../dsl/traits.ts";
import { createTrainingChain, joinerBuffers } from "../algorithms/chain.ts";
import type { GradientOracle } from "../algorithms/types.ts";
import type { Communicator, TrafficStats } from "../comm/types.ts";
import type { VirtualClock } from "../comm/virtual_clock.ts";
import { stragglerComputeMs } from "../network/stragglers.ts";
import { type LanguageMetrics, languageMetrics, type MetricsLine } from "../metrics.ts";
import { dataShape } from "../../dsl/shapes.ts";
import type { Batch, WorkerData } from "../data/types.ts";
import type { TrainableModel } from "../models/types.ts";
import { packState, unpackState, type WorkerState } from "../worker_state.ts";
import { type LongWaitWatch, timeCommunicator } from "./timed_communicator.ts";
import { messageOf, WorkerNamedError } from "../errors.ts";
import { liveWorkers } from "./membership.ts";
import type { TensorMemory } from "../tensor_memory.ts";
import type { StateBuffer } from "../state.ts";

/** What a worker loop needs. */
export interface WorkerLoopOptions {
  readonly plan: Plan;
  readonly comm: Communicator;
  readonly model: TrainableModel;
  readonly data: WorkerData;
  /** Receives every metrics line as it is produced. */
  readonly emit: (line: MetricsLine) => void;
  /** The live TensorFlow.js tensor count, recorded per step to catch leaks. */
  readonly tensorCount?: () => number;
  /** TensorFlow.js's memory (tensor bytes, WASM heap), recorded with the memory samples. */
  readonly tensorMemory?: () => TensorMemory;
  /** Stops the loop before the next step when aborted (its reason is thrown). */
  readonly signal?: AbortSignal;
  /**
   * The worker's virtual clock (`--clock virtual`): compute advances it instead of being slept,
   * and step lines carry its time. Absent in real time.
   */
  readonly clock?: VirtualClock;
  /** Checkpoints: after every `every` steps and after the last, `save` receives the state. */
  readonly checkpoint?: {
    readonly every: number;
    /** Takes the state after `step` steps (`step` counts steps done, from 1). */
    readonly save: (step: number, state: WorkerState) => Promise<void> | void;
    /**
     * Elastic runs with declared leaves: takes the state this worker leaves with, which every
     * later checkpoint holds (a resumed run hands it back as the worker's final model).
     */
    readonly departed?: (state: WorkerState) => void;
  };
  /**
   * Continue from a checkpoint taken after `step` steps, instead of starting from `x_0`; in an
   * elastic run, over the checkpoint's `members` (the workers live when it was taken).
   */
  readonly resume?: WorkerState & {
    readonly step: number;
    readonly members?: readonly number[];
  };
  /** Told when the worker has awaited its collectives for a while, and when that ends. */
  readonly longWait?: LongWaitWatch;
  /** Elastic TCP runs: how the worker goes on when a collective fails (`ElasticRecovery`). */
  readonly elastic?: ElasticRecovery;
  /**
   * Memory runs whose declared workers join again (`joinAt`): before a join step, moves `comm`
   * onto the step's fresh mesh once every member of the step is there (`MemoryRejoins`).
   */
  readonly rejoins?: { enter(k: number): Promise<void> };
}

/**
 * How an elastic TCP worker survives the loss of another (`coordinator/elastic_membership.ts`).
 * The loop keeps the state at the start of its last steps that synchronised; when a collective
 * fails, `recover` waits until the coordinator has settled the new members and replaced the
 * communicator, and says which step to go back to. The loop restores that step's state and
 * trains on from there, so the step in flight is redone over the survivors, never half-applied.
 */
export interface ElasticRecovery {
  /** How many synchronising steps' states to keep (how far behind the slowest survivor may be). */
  readonly keep: number;
  /** Collectives started so far (`ElasticCommunicator.calls`). */
  readonly calls: () => number;
  /**
   * Handles a failed collective.
   *
   * @param step The step index the worker was in (`plan.steps`: the final barrier), or the
   *   earlier one that started a collective still in flight (`TrainingChain.inFlightSince`).
   * @param error The failure.
   * @param snapshots The step indices the worker can go back to.
   * @returns Where to go on from, once the communicator is replaced.
   * @throws The failure itself when it is no loss of a worker (a bug, a divergence).
   */
  recover(step: number, error: unknown, snapshots: readonly number[]): Promise<Resumption>;
}

/** Where an elastic worker goes on from after a change of members. */
export interface Resumption {
  /** The step index to go back to. */
  readonly rewindTo: number;
  /** Workers that join now: `donor` sends each its state at `rewindTo`. */
  readonly joined: readonly number[];
  /** The member that sends the joiners their state, or `null`. */
  readonly donor: number | null;
}

/**
 * The first collective of an epoch that workers join: every member takes part (so the tags of
 * the new mesh agree), and the donor sends each joiner its state at the step they go on from,
 * packed (`packState`). It travels in the state phase, apart from training's and control bytes.
 *
 * @param comm The new epoch's communicator.
 * @param resumption Who joins and who gives.
 * @param state The donor's state (called on the donor only).
 * @returns The state this worker received (on a joiner), else `null`.
 */
export async function handOverState(
  comm: Communicator,
  resumption: Pick<Resumption, "joined" | "donor">,
  state: () => WorkerState,
): Promise<WorkerState | null> {
  const { joined, donor } = resumption;
  if (joined.length === 0 || donor === null) return null;
  const giving = comm.rank === donor;
  const packed = giving ? packState(state()) : null;
  const received = await comm.neighborExchangeBytes(
    giving ? joined.map((rank) => ({ rank, data: packed! })) : [],
    joined.includes(comm.rank) ? [donor] : [],
    "state",
  );
  const bytes = received.get(donor);
  return bytes === undefined ? null : unpackState(bytes);
}

/**
 * The state a donor hands a joiner: its buffers as they are, except its own per-worker
 * accumulations (`StateBuffer.perWorker`: error feedback's residual), which go as zeros: the
 * joiner starts them empty, as a fresh worker would, instead of sending the donor's unsent part
 * a second time. Zeros of the same type keep the layout `chain.restore` checks.
 *
 * @param buffers The donor's buffers, live.
 * @returns The state to pack (no virtual time: the joiner keeps its own clock).
 */
export function donorState(buffers: readonly StateBuffer[]): WorkerState {
  return {
    buffers: buffers.map(({ name, data, perWorker }) => ({
      name,
      data: perWorker === true ? new (data.constructor as typeof Float32Array)(data.length) : data,
    })),
    virtualMs: null,
  };
}

/**
 * The gradient of each step, timed for the declared network: on the virtual clock the step's
 * compute time (declared, or measured) with any straggler's slowdown advances the clock; in real
 * time a straggler sleeps its extra time.
 */
function timedGradient(
  options: WorkerLoopOptions,
  rank: number,
  step: () => number,
  gradient: GradientOracle,
): GradientOracle {
  const { plan, clock } = options;
  const network = plan.network;
  if (clock === undefined && network?.stragglers == null) return gradient;
  return async (params, into) => {
    const start = performance.now();
    const result = await gradient(params, into);
    const measured = performance.now() - start;
    const own = clock !== undefined && network?.computeMs != null ? network.computeMs : measured;
    const slowed = stragglerComputeMs(network, plan.seed, rank, step(), own);
    if (clock !== undefined) clock.advance(slowed);
    else if (slowed > measured) {
      await new Promise((resolve) => setTimeout(resolve, slowed - measured));
    }
    return result;
  };
}

/** A worker's loss became NaN or infinite: the run must stop. Its message names the worker. */
export class DivergenceError extends WorkerNamedError {
  /**
   * @param rank The worker.
   * @param step The step.
   * @param loss The loss value.
   */
  constructor(readonly rank: number, readonly step: number, readonly loss: number) {
    super(`Worker ${rank}: training loss is ${loss} at step ${step}`);
    this.name = "DivergenceError";
  }
}

/**
 * The step at which a run diverged, read from a failure message that carries a
 * {@linkcode DivergenceError}'s wording (it crosses the control connection as text), or `null`.
 *
 * @param message A run's failure message.
 * @returns The step index whose loss was NaN or infinite, or `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DivergenceError, divergedAt } from "./worker_loop.ts";
 *
 * assert.equal(divergedAt(new DivergenceError(2, 19, NaN).message), 19);
 * assert.equal(divergedAt("Worker 2 stopped answering"), null);
 * ```
 */
export function divergedAt(message: string): number | null {
  const match = /^Worker \d+: training loss is (?:NaN|-?Infinity) at step (\d+)$/m.exec(message);
  return match === null ? null : Number(match[1]);
}

/** Steps between memory samples in the step lines (a sample costs ~0.1 ms). */
const MEMORY_EVERY = 50;

/**
 * The process's resident memory and live JavaScript heap. When V8 exposes `gc` (the memory
 * benchmark runs workers with `DENO_V8_FLAGS=--expose-gc`), a full collection runs first, so
 * growth between samples is memory still referenced, not garbage waiting for a collection.
 */
function memorySample(): { rssBytes: number; heapBytes: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = Deno.memoryUsage();
  return { rssBytes: usage.rss, heapBytes: usage.heapUsed };
}

/** Per-phase difference of two byte counters. */
function delta(after: PhaseBytes, before: PhaseBytes): PhaseBytes {
  const result = {} as Record<string, number>;
  for (const phase of PHASES) result[phase] = after[phase] - before[phase];
  return result as PhaseBytes;
}

/** A copy of the counters (transports may return live objects). */
function snapshot(stats: TrafficStats): TrafficStats {
  return { sent: { ...stats.sent }, received: { ...stats.received } };
}

/**
 * Evaluates the averaged model (on rank 0) and, for decentralized bases, each worker's own.
 * The average is an exact all-reduce counted as `control` traffic.
 */
async function evaluate(
  options: WorkerLoopOptions,
  step: number,
  own: Float32Array,
  test: Batch,
  takeBytes: () => { bytesSent: PhaseBytes; bytesReceived: PhaseBytes },
): Promise<void> {
  const { plan, comm, model, emit } = options;
  // Language data also reports bits per token and perplexity.
  const language = dataShape(plan.data).task === "language";
  const extra = (loss: number): LanguageMetrics | Record<never, never> =>
    language ? languageMetrics(loss) : {};
  const average = await comm.allReduceMean(own, "control");
  emit({ type: "traffic", step, worker: comm.rank, ...takeBytes() });
  // The lowest-ranked live worker evaluates the average (rank 0 unless it left an elastic run).
  if (comm.rank === comm.members[0]) {
    const result = await model.evaluate(average, test);
    emit({
      type: "eval",
      step,
      model: "average",
      worker: null,
      testLoss: result.loss,
      testAccuracy: result.accuracy,
      ...extra(result.loss),
    });
  }
  // Workers of decentralized bases hold different models: each one's own is evaluated too.
  if (baseTraits(plan.base).decentralized) {
    const result = await model.evaluate(own, test);
    let squares = 0;
    for (let j = 0; j < own.length; j++) squares += (own[j]! - average[j]!) ** 2;
    emit({
      type: "eval",
      step,
      model: "worker",
      worker: comm.rank,
      testLoss: result.loss,
      testAccuracy: result.accuracy,
      ...extra(result.loss),
      distanceToAverage: Math.sqrt(squares),
    });
  }
}

/**
 * Runs one worker from `x_0` to the last step.
 *
 * @param options Plan, communicator, model, data and metrics sink.
 * @returns The worker's final reported model (the de-biased `z_i` for sgp).
 * @throws {DivergenceError} When the loss becomes NaN or infinite.
 */
export async function runWorkerLoop(options: WorkerLoopOptions): Promise<Float32Array> {
  const { plan, model, data, emit } = options;
  const comm = timeCommunicator(options.comm, options.longWait);
  const rank = comm.rank;
  const d = model.parameterCount;
  // Every line carries the traffic since the previous line, so the lines add up to every
  // byte of the run: step 0 includes the broadcast of x_0 (and anything a fast peer sent
  // before this worker started), evaluation lines their all-reduce. Received bytes are
  // counted when a receive takes them, so each line holds what its own step used.
  let counted: TrafficStats = { sent: zeroBytes(), received: zeroBytes() };
  const takeBytes = () => {
    const now = snapshot(comm.stats());
    const bytes = {
      bytesSent: delta(now.sent, counted.sent),
      bytesReceived: delta(now.received, counted.received),
    };
    counted = now;
    return bytes;
  };
  const { resume, checkpoint } = options;
  // A resumed worker takes everything from its checkpoint; x_0 only shapes the chain.
  const initial = rank === 0 && resume === undefined
    ? model.initialParameters(plan.seed)
    : new Float32Array(d);
  const x0 = resume === undefined ? await comm.broadcast(initial, 0, "control") : initial;
  let batch = data.batch(0);
  let step = 0;
  const chain = createTrainingChain({
    plan,
    comm,
    x0,
    variables: model.tensors.map((tensor) => tensor.shape.reduce((a, b) => a * b, 1)),
    gradient: timedGradient(
      options,
      rank,
      () => step,
      (params, into) => model.gradient(params, batch, into),
    ),
  });
  if (resume !== undefined) {
    chain.restore(new Map(resume.buffers.map((tensor) => [tensor.name, tensor.data])));
    if (options.clock !== undefined && resume.virtualMs !== null) {
      options.clock.now = resume.virtualMs;
    }
  }
  // An elastic run resumed after a change of members goes on over the members it had then,
  // without a membership line: that change was recorded before the checkpoint.
  const resumedMembers = resume?.members;
  if (
    resumedMembers !== undefined && resumedMembers.includes(rank) &&
    resumedMembers.join() !== comm.members.join()
  ) comm.setMembers(resumedMembers);
  comm.takeWaitMs();
  const trainingStart = performance.now();
  // Elastic runs with declared leaves: the membership of each step, the same on every worker.
  const liveAt = (plan.network?.failures ?? []).length > 0 ? liveWorkers(plan) : null;
  const { elastic } = options;
  // Elastic TCP runs: the state at the start of the last synchronising steps, by step index,
  // with any collective then in flight held, to settle into it if the run goes back there.
  const kept = new Map<number, () => Promise<Map<string, Float32Array | Float64Array>>>();
  let k = resume?.step ?? 0;
  /** Workers that join at this epoch's start and who hands them a state (after a recovery). */
  let handover: Resumption | null = null;
  for (;;) {
    try {
      if (handover !== null) {
        // Every member first makes room for the joiners (sgp's donor splits its mass, cada's
        // server clears their slots); a recovery after a failed hand-over restores a snapshot,
        // which undoes it. In the try: a worker lost while it hands over starts the next one.
        if (handover.donor !== null && handover.joined.length > 0) {
          chain.joining(handover.joined, handover.donor);
        }
        await handOverState(comm, handover, () => donorState(chain.buffers()));
        handover = null;
      }
      for (; k < plan.steps; k++) {
        if (liveAt !== null) {
          const next = await followSchedule(k);
          if (next === null) {
            // Copies, as for a checkpoint; no settling: a leaver waits on no collective.
            checkpoint?.departed?.({
              buffers: chain.buffers().map(({ name, data }) => ({ name, data: data.slice() })),
              virtualMs: options.clock?.now ?? null,
            });
            return chain.model();
          }
          k = next;
        }
        const calls = elastic?.calls();
        if (elastic !== undefined) kept.set(k, chain.snapshot());
        await trainStep(k);
        if (elastic !== undefined) {
          // A step without collectives is never where a survivor waits: nobody goes back to it.
          if (elastic.calls() === calls && kept.size > 1) kept.delete(k);
          for (const step of kept.keys()) if (kept.size > elastic.keep) kept.delete(step);
        }
      }
      // Nobody leaves while a peer may still wait on it; the barrier's bytes go in a last
      // traffic line, so the lines add up to every byte this worker sent and received.
      await comm.barrier();
      break;
    } catch (error) {
      if (elastic === undefined) throw error;
      // The step whose start the run must go back to: this one, or the one that started a
      // collective still in flight (overlapLocalSgd, streamingDiloco), which the lost worker may
      // have left half done.
      const at = Math.min(k, chain.inFlightSince() ?? k);
      const resumption = await elastic.recover(at, error, [
        ...kept.keys(),
        ...(k === plan.steps ? [k] : []),
      ]);
      const back = resumption.rewindTo;
      if (back < plan.steps) {
        chain.restore(await settled(back));
        for (const step of kept.keys()) if (step > back) kept.delete(step);
      }
      k = back;
      handover = resumption;
    }
  }
  emit({ type: "traffic", step: plan.steps - 1, worker: rank, ...takeBytes() });
  return chain.model();

  /**
   * The state kept at the start of step `back`, with the collectives then in flight settled in:
   * they started before `back`, and every survivor reported a step no later than the start of
   * any collective it had not completed, so they did complete.
   */
  async function settled(back: number): Promise<Map<string, Float32Array | Float64Array>> {
    try {
      return await kept.get(back)!();
    } catch (error) {
      throw new WorkerNamedError(
        `Worker ${rank} cannot go back to step ${
          back + 1
        }: the collective in flight at its start failed (${messageOf(error)})`,
      );
    }
  }

  /**
   * Elastic runs with declared failures, before step `k`: follows the schedule's membership. A
   * worker that leaves stops before this step's synchronisation; if it comes back later it skips
   * to that step, else it hands back its parameters as they are (`null`). The survivors narrow
   * every collective (and the topology bases their mixing, which follows the communicator's
   * members) to the live workers. Where workers join, every member moves onto the step's fresh
   * mesh and the lowest-ranked survivor hands each joiner its state (`handOverState`, phase
   * `state`), as over TCP; the joiner trains on from it.
   *
   * @returns The step index to train next (`k`, or a joiner's return), or `null` to leave.
   */
  async function followSchedule(k: number): Promise<number | null> {
    let live = liveAt!(k);
    if (!live.includes(rank)) {
      let back = k + 1;
      while (back < plan.steps && !liveAt!(back).includes(rank)) back++;
      if (back === plan.steps) return null;
      k = back;
      live = liveAt!(k);
    }
    const before = k === 0 ? comm.members : liveAt!(k - 1);
    if (live.join() === before.join()) return k;
    const left = before.filter((member) => !live.includes(member));
    const joined = live.filter((member) => !before.includes(member));
    if (joined.length > 0) await options.rejoins!.enter(k);
    comm.setMembers(live);
    if (joined.length > 0) {
      const donor = live.find((member) => before.includes(member))!;
      // As over TCP: the members make room for the joiners first (sgp's donor splits its mass,
      // cada's server clears their slots), and a joiner starts from what `joinerBuffers` makes
      // of the donor's state.
      if (!joined.includes(rank)) chain.joining(joined, donor);
      const state = await handOverState(
        comm,
        { joined, donor },
        () => donorState(chain.buffers()),
      );
      if (state !== null) {
        chain.restore(
          joinerBuffers(plan, rank, new Map(state.buffers.map((b) => [b.name, b.data]))),
        );
      }
    }
    if (rank === live[0]) {
      emit({
        type: "membership",
        step: k,
        worker: rank,
        left,
        members: live,
        reason: left.length > 0 ? "declared" : "joined",
        ...(joined.length > 0 ? { joined } : {}),
      });
    }
    return k;
  }

  /** Step `k`: its batch, the chain's step, its line, evaluation and checkpoint. */
  async function trainStep(k: number): Promise<void> {
    options.signal?.throwIfAborted();
    step = k;
    const start = performance.now();
    batch = data.batch(k);
    const { loss, lr, metrics } = await chain.step(k);
    const wallMs = performance.now() - start;
    const commMs = comm.takeWaitMs();
    if (!Number.isFinite(loss)) throw new DivergenceError(rank, k, loss);
    emit({
      type: "step",
      step: k,
      worker: rank,
      loss,
      lr,
      computeMs: wallMs - commMs,
      commMs,
      elapsedMs: performance.now() - trainingStart,
      ...(k % MEMORY_EVERY === 0 || k === plan.steps - 1
        ? { ...memorySample(), ...options.tensorMemory?.() }
        : {}),
      ...takeBytes(),
      ...(options.tensorCount === undefined ? {} : { tensors: options.tensorCount() }),
      ...(Object.keys(metrics).length === 0 ? {} : { algorithm: metrics }),
      ...(options.clock === undefined ? {} : { virtualMs: options.clock.now }),
    });
    const last = k === plan.steps - 1;
    if ((k + 1) % plan.evalEvery === 0 || last) {
      if (last) await chain.finish();
      await evaluate({ ...options, comm }, k, chain.model(), data.test, takeBytes);
      comm.takeWaitMs();
    }
    if (checkpoint !== undefined && ((k + 1) % checkpoint.every === 0 || last)) {
      // Copies: the buffers are live and the next step changes them while the state is saved.
      const buffers = (await chain.checkpoint()).map((buffer) => ({
        name: buffer.name,
        data: buffer.data.slice(),
      }));
      await checkpoint.save(k + 1, { buffers, virtualMs: options.clock?.now ?? null });
      // The bytes of a collective that was in flight until it settled belong before the
      // checkpoint: a run resumed from it does not send them again, and its lines must add up
      // to the same totals. (A faster peer's next-step message may already have arrived; it is
      // counted only when the next step takes it.)
      const bytes = takeBytes();
      if (totalBytes(bytes.bytesSent) + totalBytes(bytes.bytesReceived) > 0) {
        emit({ type: "traffic", step: k, worker: rank, ...bytes });
      }
    }
  }
}
