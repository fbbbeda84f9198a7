/**
 * Predicts a plan's time per step on its declared network before anything runs, with the same
 * model the virtual clock uses (`comm/virtual_clock.ts`, `network/links.ts`): it simulates a
 * few synchronisation periods of the plan's own step driver on the virtual clock, every worker
 * in this thread, with a zero gradient (the algorithms' messages do not depend on the values,
 * their sizes and timing do) and the declared compute time per step. A virtual-clock run of the
 * plan therefore takes what this predicts, per step.
 *
 * @module
 */

import { modelVariables } from "../../dsl/shapes.ts";
import { network as defaultNetwork } from "../../dsl/network.ts";
import type { Plan } from "../../dsl/plan.ts";
import { totalBytes } from "../../dsl/traffic.ts";
import { period } from "../../topologies/mod.ts";
import { createTrainingChain } from "../algorithms/chain.ts";
import { createCommunicator } from "../comm/communicator.ts";
import { createMemoryTransports } from "../comm/memory_transport.ts";
import { ArrivalBoard, VirtualClock, virtualWorker } from "../comm/virtual_clock.ts";
import { LinkSchedule } from "../network/links.ts";
import { stragglerComputeMs } from "../network/stragglers.ts";

/** What {@linkcode predictStepTime} predicts. */
export interface StepTimePrediction {
  /** Steps simulated (whole synchronisation periods). */
  readonly steps: number;
  /** Mean simulated time per step, compute included, in ms (the slowest worker's clock). */
  readonly msPerStep: number;
  /** The compute time per step assumed (the network's `computeMs`, else 0). */
  readonly computeMs: number;
  /** Mean bytes sent per worker per step, as the transports counted them (headers included). */
  readonly bytesPerStep: number;
}

/** Steps after which the plan's schedule repeats: the periods of its base, outer and topology. */
function schedulePeriod(plan: Plan): number {
  const lengths = [1];
  const { base, outer } = plan;
  if ("tau" in base) lengths.push(base.tau);
  if ("topology" in base) lengths.push(period(base.topology, plan.workers));
  if (outer !== null) lengths.push(outer.tau);
  const gcd = (a: number, b: number): number => b === 0 ? a : gcd(b, a % b);
  return lengths.reduce((a, b) => a / gcd(a, b) * b);
}

/**
 * Simulates the plan on its declared network and returns the time and bytes per step.
 *
 * @param plan A valid plan (its network, or an unlimited one, and its parameter count `d`).
 * @param d The number of model parameters.
 * @param options How many periods to simulate (default: the plan's steps, up to 200, in whole
 *   periods; a run of the plan on the virtual clock then takes exactly the predicted time when
 *   its steps are all simulated).
 * @returns The prediction.
 * @example Two workers, all-reduce of 4 floats on 8 Mbit/s with 5 ms latency, 10 ms compute
 * ```ts
 * import assert from "node:assert/strict";
 * import { predictStepTime } from "./predict_time.ts";
 * import { allReduce, linear, network, sgd, synthetic, train } from "../../mod.ts";
 *
 * const plan = train(linear({ dim: 4 })).data(synthetic({ task: "regression", features: 4 }))
 *   .workers(2).optimizer(sgd({ lr: 0.1 })).base(allReduce())
 *   .network(network({ bandwidth: "8Mbit", latency: "5ms", computeMs: 10 })).compile();
 * const { msPerStep } = await predictStepTime(plan, 4);
 * // 10 ms of compute, then two ring steps of one 20-byte message: 2 · (5 + 0.02) ms.
 * assert.ok(Math.abs(msPerStep - 20.04) < 1e-9);
 * ```
 */
export async function predictStepTime(
  plan: Plan,
  d: number,
  options: { readonly periods?: number } = {},
): Promise<StepTimePrediction> {
  const net = plan.network ?? defaultNetwork();
  const length = schedulePeriod(plan);
  const periods = options.periods ?? Math.max(1, Math.floor(Math.min(plan.steps, 200) / length));
  const steps = Math.min(plan.steps, periods * length);
  const computeMs = net.computeMs ?? 0;
  const transports = createMemoryTransports(plan.workers);
  const board = new ArrivalBoard();
  try {
    const clocks = await Promise.all(transports.map(async (transport, rank) => {
      const clock = new VirtualClock();
      const worker = virtualWorker(transport, clock, new LinkSchedule(net, rank, plan.seed), board);
      let k = 0;
      const chain = createTrainingChain({
        plan,
        comm: worker.wrap(createCommunicator(worker.transport)),
        x0: new Float32Array(d),
        variables: modelVariables(plan.model, plan.data) ?? [d],
        gradient: () => {
          clock.advance(stragglerComputeMs(net, plan.seed, rank, k, computeMs));
          return Promise.resolve({ loss: 0, grad: new Float32Array(d) });
        },
      });
      for (k = 0; k < steps; k++) await chain.step(k);
      return clock.now;
    }));
    const sent = transports.reduce((sum, transport) => sum + totalBytes(transport.stats().sent), 0);
    return {
      steps,
      msPerStep: Math.max(...clocks) / steps,
      computeMs,
      bytesPerStep: sent / plan.workers / steps,
    };
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
}
