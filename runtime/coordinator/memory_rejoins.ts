/**
 * Declared rejoins on the memory transport (`network({ failures: [{ worker, leaveAt, joinAt }] })`):
 * at a step where workers join again, every member of that step moves onto a fresh mesh of memory
 * transports, as the members of a TCP run form a new epoch's mesh when a worker joins
 * (`elastic_membership.ts`). The fresh mesh is what lets a joiner take part at all: a worker that
 * was away skipped the collectives of the steps it missed, so its communicator's tags (a count
 * per communicator) are behind the others', and a fresh communicator starts every member's count
 * at zero.
 *
 * Each member waits in {@linkcode MemoryRejoins.enter} until every member of the step has
 * arrived, so a joiner, which gets there at once, never waits in a receive (which times out) for
 * survivors still training towards the step.
 *
 * @module
 */

import type { Communicator, Transport } from "../comm/types.ts";
import { createMemoryTransports } from "../comm/memory_transport.ts";

/** One join step's mesh and who has arrived at it. */
interface JoinMesh {
  readonly comms: readonly Communicator[];
  readonly transports: readonly Transport[];
  arrived: number;
  readonly ready: PromiseWithResolvers<void>;
}

/** The meshes of an in-memory run's join steps, made when the first member arrives. */
export class MemoryRejoins {
  readonly #workers: number;
  readonly #members: (k: number) => readonly number[];
  readonly #connect: (transports: readonly Transport[]) => readonly Communicator[];
  readonly #meshes = new Map<number, JoinMesh>();
  #failed: unknown = null;

  /**
   * @param workers The run's workers.
   * @param members The live workers at each step index.
   * @param connect Builds every rank's communicator over fresh transports (on the virtual clock,
   *   with the ranks' own clocks and links).
   */
  constructor(
    workers: number,
    members: (k: number) => readonly number[],
    connect: (transports: readonly Transport[]) => readonly Communicator[],
  ) {
    this.#workers = workers;
    this.#members = members;
    this.#connect = connect;
  }

  /**
   * Arrives at the join before step index `k` and waits for the step's other members.
   *
   * @param rank A member of step `k`.
   * @param k A step index at which workers join.
   * @returns This rank's communicator of the fresh mesh (its members not yet set).
   * @throws The run's failure, when another worker failed meanwhile ({@linkcode abort}).
   */
  async enter(rank: number, k: number): Promise<Communicator> {
    if (this.#failed !== null) throw this.#failed;
    let mesh = this.#meshes.get(k);
    if (mesh === undefined) {
      const transports = createMemoryTransports(this.#workers);
      mesh = {
        transports,
        comms: this.#connect(transports),
        arrived: 0,
        ready: Promise.withResolvers(),
      };
      this.#meshes.set(k, mesh);
    }
    mesh.arrived++;
    if (mesh.arrived === this.#members(k).length) mesh.ready.resolve();
    await mesh.ready.promise;
    return mesh.comms[rank]!;
  }

  /**
   * Releases every member still waiting at a join with the run's failure.
   *
   * @param error The failure.
   */
  abort(error: unknown): void {
    this.#failed ??= error;
    for (const mesh of this.#meshes.values()) {
      mesh.ready.promise.catch(() => {});
      mesh.ready.reject(error);
    }
  }

  /** Closes every mesh's transports. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#meshes.values()].flatMap((mesh) => mesh.transports.map((t) => t.close())),
    );
  }
}
