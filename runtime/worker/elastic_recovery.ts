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
    // The slowest survivor is at most one synchronisation behind per hop of the topology.
    keep: worker.plan.workers + 1,
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
