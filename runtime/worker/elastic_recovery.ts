/**
 * An elastic TCP worker's side of losing a peer (`coordinator/elastic_membership.ts` has the
 * protocol). When a collective fails, because a peer died or because the coordinator paused the
 * run, the worker tells the coordinator whom it lost (only while no pause explains the failure:
 * a pause closes the peers' threads too), waits for the pause, opens the next epoch's
 * communication thread, answers `paused` with the step it was in and the steps it can go back
 * to, and on the epoch's `members` connects a mesh over the survivors and goes back to
 * `rewindTo`. A newer pause while it waits is answered again from where it waits.
 *
 * @module
 */

import type { Plan } from "../../dsl/plan.ts";
import type { InPlaceCommunicator } from "../comm/communicator.ts";
import { PeerError } from "../comm/types.ts";
import { messageOf, WorkerNamedError } from "../errors.ts";
import type { ControlChannel, Members } from "./control_channel.ts";
import type { ElasticCommunicator } from "./elastic_communicator.ts";
import type { MetricsBatcher } from "./metrics_batcher.ts";
import { DivergenceError, type ElasticRecovery } from "./worker_loop.ts";

/** The next epoch's communication thread, listening, not yet connected. */
export interface NextEpoch {
  /** `host:port` peers dial to reach its mesh listener. */
  readonly address: string;
  /** Forms the mesh over the members. */
  connect(members: Members): Promise<InPlaceCommunicator>;
}

/** What an elastic worker's recovery needs. */
export interface ElasticWorker {
  readonly rank: number;
  readonly plan: Plan;
  readonly control: ControlChannel;
  readonly metrics: MetricsBatcher;
  /** The worker's communicator, whose epoch's communicator is replaced. */
  readonly comm: ElasticCommunicator;
  /** Closes the current communication thread and starts the next one. */
  openEpoch(): Promise<NextEpoch>;
  /**
   * How long a worker whose collectives failed waits for the coordinator's pause before it
   * decides that it is the one cut off (its link is down), ms.
   */
  readonly cutOffMs: number;
}

/**
 * How many synchronising steps' states (steps that started a collective) an elastic TCP worker
 * keeps, so that it can go back to any step the survivors may rewind to. The slowest survivor is
 * at most one synchronisation behind per hop of the topology: `workers + 1`. Where a collective
 * stays in flight across steps (overlapLocalSgd's average, streamingDiloco's sync), the run goes
 * back to the step that started it, which the fastest survivor may have left two of the
 * collective's periods behind (it completed that collective, started the next, and waits in that
 * one): the steps of those periods that can start a collective are kept too. For a base that
 * communicates only at its period, they are its syncs, the outer's and the evaluations; else
 * every step.
 *
 * @param plan The plan.
 * @returns The states to keep.
 * @example overlapLocalSgd every 4 steps on 4 workers, evaluating every 10 steps
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduce, leastSquares, linear, overlapLocalSgd, sgd, train } from "../../mod.ts";
 * import { elasticKeep } from "./elastic_recovery.ts";
 *
 * const pipeline = train(linear({ dim: 3 })).data(leastSquares({ file: "unused.json" }))
 *   .workers(4).optimizer(sgd({ lr: 0.1 })).steps(100).evalEvery(10);
 * assert.equal(elasticKeep(pipeline.base(allReduce()).compile()), 5);
 * // 9 steps from one sync to the one two periods on: 3 syncs and at most 1 evaluation.
 * assert.equal(elasticKeep(pipeline.base(overlapLocalSgd({ tau: 4 })).compile()), 5 + 3 + 1);
 * ```
 */
export function elasticKeep(plan: Plan): number {
  const hops = plan.workers + 1;
  const { base } = plan;
  const streaming = plan.outer?.kind === "streamingDiloco" ? plan.outer : null;
  const outerStride = streaming === null ? null : streaming.tau / streaming.fragments;
  const period = base.kind === "overlapLocalSgd" ? base.tau : outerStride;
  if (period === null) return hops;
  const steps = 2 * period + 1;
  // At most this many multiples of `interval` among `steps` consecutive steps.
  const multiples = (interval: number) => Math.ceil(steps / interval);
  const collectiveSteps = base.kind === "overlapLocalSgd" || base.kind === "localSgd"
    ? multiples(base.tau) + (outerStride === null ? 0 : multiples(outerStride)) +
      multiples(plan.evalEvery)
    : steps;
  return hops + Math.min(steps, collectiveSteps);
}

/**
 * The recovery the worker loop calls when a collective fails.
 *
 * @param worker The worker.
 * @param epoch The epoch the worker starts in: 0, or the one it joined in.
 * @returns The loop's elastic hooks.
 */
export function elasticRecovery(worker: ElasticWorker, epoch = 0): ElasticRecovery {
  const { rank, control, comm } = worker;
  /** The last epoch this worker went on from. */
  let handled = epoch;
  return {
    keep: elasticKeep(worker.plan),
    calls: () => comm.calls,
    async recover(step, error, snapshots) {
      const paused = control.pauseEpoch > handled;
      const lost = error instanceof PeerError;
      if (
        control.stoppedBecause !== null || error instanceof DivergenceError || !(paused || lost)
      ) {
        throw error;
      }
      worker.metrics.flush();
      if (lost && !paused) {
        await control.send({
          type: "lost",
          rank,
          epoch: handled,
          peer: error.peer,
          message: error.message,
        }).catch(() => {/* the coordinator's abort says why */});
      }
      let epoch = await pauseAfter(handled, error);
      for (;;) {
        const next = await worker.openEpoch();
        let members: Members | number;
        for (;;) {
          await control.send({
            type: "paused",
            rank,
            epoch,
            step,
            snapshots,
            address: next.address,
          });
          members = await control.membersOf(epoch);
          if (typeof members !== "number") break;
          epoch = members; // a newer pause: answer it from here
        }
        try {
          comm.replace(await next.connect(members));
          handled = epoch;
          return members;
        } catch (connectError) {
          // Another member was lost while the mesh formed: its loss brings the next pause.
          if (control.stoppedBecause !== null) throw connectError;
          epoch = await pauseAfter(epoch, connectError);
        }
      }
    },
  };

  /**
   * The coordinator's next pause after `epoch`; a worker that hears none within `cutOffMs` is
   * the one cut off.
   */
  async function pauseAfter(epoch: number, error: unknown): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cutOff = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new WorkerNamedError(
              `Worker ${rank} is cut off from the run: its collectives failed (${
                messageOf(error)
              }) and the coordinator said nothing for ${worker.cutOffMs / 1000} s`,
            ),
          ),
        worker.cutOffMs,
      );
    });
    try {
      return await Promise.race([control.pausedAfter(epoch), cutOff]);
    } finally {
      clearTimeout(timer);
    }
  }
}
