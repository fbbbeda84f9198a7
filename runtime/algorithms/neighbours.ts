/**
 * The neighbours of the gossip family (gossip, dmSgd, DecentLaM, sgp): who a worker exchanges
 * with at step `k` (memoised over one period of the topology), and the exchange itself.
 *
 * @module
 */

import { type Neighbors, neighbors, topologyOver } from "../../topologies/mod.ts";
import type { TopologyNode } from "../../topologies/types.ts";
import type { Communicator } from "../comm/types.ts";
import { byTopologyPhase } from "./_periodic.ts";

/** A neighbour's model and the mixing weight `W_ij` the receiver applies to it. */
export interface WeightedModel {
  /** `W_ij`. */
  readonly weight: number;
  /** What the neighbour sent: its pre-step model `x_j` (gossip) or its half step `y_j`. */
  readonly data: Float32Array;
}

/**
 * `neighbors(topology, n, rank, k)` memoised over one period of the topology (time-varying
 * graphs repeat; the result is a pure function of `k mod period`).
 *
 * @param topology The topology.
 * @param n The number of workers.
 * @param rank This worker.
 * @returns A function of the step.
 * @throws {RangeError} When the topology does not fit `n` workers.
 */
export function neighborsByStep(
  topology: TopologyNode,
  n: number,
  rank: number,
): (k: number) => Neighbors {
  return byTopologyPhase(topology, n, (phase) => neighbors(topology, n, rank, phase));
}

/**
 * Something computed from the topology for each step, over the communicator's current members:
 * the run's topology while every worker is a member, and `topologyOver(topology, members, n)`
 * once an elastic run has narrowed the members (`Communicator.setMembers`), so the survivors mix
 * over the topology re-formed for them from the next step on.
 *
 * @param topology The run's topology.
 * @param comm The worker's communicator (its size, rank and members).
 * @param build Makes the function of the step for one topology over the run's ranks.
 * @returns A function of the step.
 * @throws {RangeError} When the topology does not fit, or cannot be re-formed over the members.
 */
export function overMembers<T>(
  topology: TopologyNode,
  comm: Pick<Communicator, "size" | "members">,
  build: (topology: TopologyNode) => (k: number) => T,
): (k: number) => T {
  // Built for every rank: a chain made while some are away (a worker joining an elastic run, a
  // run resumed without the workers it lost) re-forms the topology at its first step.
  let members = Array.from({ length: comm.size }, (_, rank) => rank).join();
  let at = build(topology);
  return (k) => {
    const now = comm.members;
    if (now.join() !== members) {
      members = now.join();
      at = build(now.length === comm.size ? topology : topologyOver(topology, now, comm.size));
    }
    return at(k);
  };
}

/**
 * The neighbours of a worker at each step over its communicator's current members
 * ({@linkcode overMembers}, with {@linkcode neighborsByStep}).
 *
 * @param topology The run's topology.
 * @param comm The worker's communicator.
 * @returns A function of the step.
 * @throws {RangeError} When the topology does not fit the number of workers.
 */
export function neighborsOverMembers(
  topology: TopologyNode,
  comm: Pick<Communicator, "size" | "rank" | "members">,
): (k: number) => Neighbors {
  return overMembers(topology, comm, (over) => neighborsByStep(over, comm.size, comm.rank));
}

/**
 * Looks up the vector received from each peer.
 *
 * @param received What `neighborExchange` returned.
 * @param ranks The ranks expected, in order.
 * @param what The algorithm, for the message.
 * @returns The vectors in the order of `ranks`.
 * @throws {Error} When a peer's vector is missing.
 */
export function receivedFrom(
  received: ReadonlyMap<number, Float32Array>,
  ranks: readonly number[],
  what: string,
): Float32Array[] {
  return ranks.map((rank) => {
    const data = received.get(rank);
    if (data === undefined) {
      throw new Error(`Cannot run ${what}: nothing received from worker ${rank}`);
    }
    return data;
  });
}

/**
 * Exchanges `vector` with the neighbours of one step (phase `"base"`).
 *
 * @param comm The worker's communicator.
 * @param neighbours The step's neighbours of this worker.
 * @param vector What this worker sends to each out-neighbour (not changed until it resolves).
 * @param what The algorithm, for the message when a peer's vector is missing.
 * @returns The in-neighbours' vectors with their weights `W_ij`, in ascending rank.
 * @throws {PeerError} From the communicator, when a peer fails.
 */
export async function exchangeWithNeighbours(
  comm: Communicator,
  neighbours: Neighbors,
  vector: Float32Array,
  what: string,
): Promise<WeightedModel[]> {
  const ranks = neighbours.receiveFrom.map((peer) => peer.rank);
  const received = receivedFrom(
    await comm.neighborExchange(
      neighbours.sendTo.map((peer) => ({ rank: peer.rank, data: vector })),
      ranks,
      "base",
    ),
    ranks,
    what,
  );
  return neighbours.receiveFrom.map((peer, index) => ({
    weight: peer.weight,
    data: received[index]!,
  }));
}
