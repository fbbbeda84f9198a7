/**
 * Wraps a communicator to measure the time a worker spends waiting on communication, so each
 * step's wall time splits honestly into `commMs` (awaiting collectives) and `computeMs` (the
 * rest).
 *
 * @module
 */

import type { Communicator, PendingAllGather, PendingAllReduce } from "../comm/types.ts";

/** A communicator that accumulates the milliseconds spent awaiting it. */
export interface TimedCommunicator extends Communicator {
  /** Milliseconds spent awaiting communication since the last call; resets the counter. */
  takeWaitMs(): number;
}

/** Who hears that a worker has awaited its collectives for a while, and when it stops. */
export interface LongWaitWatch {
  /** A collective awaited this long, ms, counts as waiting. */
  readonly afterMs: number;
  /** Called with true when the worker starts waiting that long, false when it stops. */
  readonly change: (waiting: boolean) => void;
}

/**
 * Wraps `comm` so every awaited collective adds to a wait counter, and, given a watch, reports
 * when collectives have been awaited longer than `afterMs` and when that ends (overlapping
 * collectives report once).
 *
 * @param comm The communicator to wrap.
 * @param watch Where long waits are reported (default: nowhere).
 * @returns The timed communicator.
 */
export function timeCommunicator(comm: Communicator, watch?: LongWaitWatch): TimedCommunicator {
  let waited = 0;
  let longWaits = 0;
  async function timed<T>(work: Promise<T>): Promise<T> {
    const start = performance.now();
    let long = false;
    const timer = watch === undefined ? undefined : setTimeout(() => {
      long = true;
      if (longWaits++ === 0) watch.change(true);
    }, watch.afterMs);
    try {
      return await work;
    } finally {
      clearTimeout(timer);
      if (long && --longWaits === 0) watch!.change(false);
      waited += performance.now() - start;
    }
  }
  return {
    rank: comm.rank,
    size: comm.size,
    get members() {
      return comm.members;
    },
    setMembers: (members) => comm.setMembers(members),
    allReduceSum: (data, phase) => timed(comm.allReduceSum(data, phase)),
    allReduceMean: (data, phase) => timed(comm.allReduceMean(data, phase)),
    allReduceSumInPlace: (data, phase) => timed(comm.allReduceSumInPlace(data, phase)),
    allReduceMeanInPlace: (data, phase) => timed(comm.allReduceMeanInPlace(data, phase)),
    allReduceMeanStart(data, phase): PendingAllReduce {
      const pending = comm.allReduceMeanStart(data, phase);
      return { wait: () => timed(pending.wait()), elapsedMs: () => pending.elapsedMs() };
    },
    broadcast: (data, root, phase) => timed(comm.broadcast(data, root, phase)),
    neighborExchange: (to, from, phase) => timed(comm.neighborExchange(to, from, phase)),
    neighborExchangeBytes: (to, from, phase) => timed(comm.neighborExchangeBytes(to, from, phase)),
    allGather: (data, phase) => timed(comm.allGather(data, phase)),
    allGatherStart(data, phase): PendingAllGather {
      const pending = comm.allGatherStart(data, phase);
      return { wait: () => timed(pending.wait()), elapsedMs: () => pending.elapsedMs() };
    },
    gather: (data, root, phase) => timed(comm.gather(data, root, phase)),
    barrier: () => timed(comm.barrier()),
    stats: () => comm.stats(),
    takeWaitMs() {
      const value = waited;
      waited = 0;
      return value;
    },
  };
}
