/**
 * A run with the memory transport: every rank in this thread, over the same collective and
 * algorithm code as a TCP run, for tests and simulations. On the virtual clock
 * (`comm/virtual_clock.ts`) each rank's communicator runs its collectives on simulated time
 * through the declared network's link queues. An elastic plan whose workers join again
 * (`joinAt`) moves the members of each join step onto a fresh mesh (`memory_rejoins.ts`).
 *
 * @module
 */

import { network } from "../../dsl/network.ts";
import type { Plan } from "../../dsl/plan.ts";
import { ArrivalBoard, VirtualClock, virtualWorker } from "../comm/virtual_clock.ts";
import { LinkSchedule } from "../network/links.ts";
import { selectBackend } from "../backend.ts";
import { tensorMemory } from "../tensor_memory.ts";
import { createCommunicator } from "../comm/communicator.ts";
import { createMemoryTransports } from "../comm/memory_transport.ts";
import { loadWorkerData } from "../data/worker_data.ts";
import type { MetricsLine } from "../metrics.ts";
import { createModel } from "../models/create_model.ts";
import type { FinalModels, RunOptions, RuntimeFacts } from "../run_types.ts";
import { runWorkerLoop } from "../worker/worker_loop.ts";
import { joinSteps, liveWorkers } from "../worker/membership.ts";
import { type ElasticCommunicator, elasticCommunicator } from "../worker/elastic_communicator.ts";
import type { Transport } from "../comm/types.ts";
import { MemoryRejoins } from "./memory_rejoins.ts";
import { spreadData } from "../data/spread.ts";
import type { CheckpointHooks } from "./checkpoints.ts";

/** Runs every rank in this thread over memory transports. */
export async function runInMemory(
  plan: Plan,
  options: RunOptions,
  sink: (lines: readonly MetricsLine[]) => void,
  facts: RuntimeFacts,
  checkpoints: CheckpointHooks,
): Promise<FinalModels> {
  const backend = await selectBackend(options.backend ?? "auto");
  facts.backend = backend.backend;
  facts.backendReason = backend.reason;
  const tf = await import("../../deps/tfjs.ts");
  facts.tfjs = tf.version_core;
  const transports = createMemoryTransports(plan.workers);
  // On the virtual clock every rank's messages carry simulated times through its link queues.
  const clocks = transports.map(() => new VirtualClock());
  const links = transports.map((_, rank) =>
    new LinkSchedule(plan.network ?? network(), rank, plan.seed)
  );
  /** Every rank's communicator over a mesh of transports (a rank keeps its clock and links). */
  const connect = (mesh: readonly Transport[]) => {
    const board = new ArrivalBoard();
    return mesh.map((transport, rank) => {
      if (options.clock !== "virtual") return createCommunicator(transport);
      const worker = virtualWorker(transport, clocks[rank]!, links[rank]!, board);
      return worker.wrap(createCommunicator(worker.transport));
    });
  };
  const liveAt = liveWorkers(plan);
  // Declared rejoins: the members of a join step move onto a fresh mesh, so the elastic
  // communicator stands for the current one.
  const rejoins = liveAt !== null && joinSteps(plan).length > 0
    ? new MemoryRejoins(plan.workers, liveAt, connect)
    : null;
  const comms = connect(transports).map((comm) =>
    rejoins === null ? comm : elasticCommunicator(comm)
  );
  const ranks = comms.map((comm) => comm.rank);
  const setups = await Promise.all(ranks.map(async (rank) => ({
    data: await loadWorkerData(plan, rank),
    model: await createModel(plan),
  })));
  // reshard "spread": each live worker also trains on its part of the lost workers' batches.
  const spread = liveAt !== null && plan.elastic?.reshard === "spread";
  const dataOf = (rank: number) =>
    spread ? spreadData(rank, setups.map((setup) => setup.data), liveAt) : setups[rank]!.data;
  let failure: unknown = null;
  try {
    const models = await Promise.all(ranks.map(async (rank) => {
      try {
        return await runWorkerLoop({
          plan,
          comm: comms[rank]!,
          model: setups[rank]!.model,
          data: dataOf(rank),
          tensorCount: () => tf.memory().numTensors,
          tensorMemory,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          ...(options.clock === "virtual" ? { clock: clocks[rank]! } : {}),
          ...(rejoins === null ? {} : {
            rejoins: {
              async enter(k: number) {
                (comms[rank] as ElasticCommunicator).replace(await rejoins.enter(rank, k));
              },
            },
          }),
          ...(checkpoints.every === null ? {} : {
            checkpoint: {
              every: checkpoints.every,
              save: (step, state) => checkpoints.save(rank, step, state),
              departed: (state) => checkpoints.departed?.(rank, state),
            },
          }),
          ...(checkpoints.resume === null ? {} : {
            resume: {
              ...checkpoints.resume.workers[rank]!,
              step: checkpoints.resume.step,
              ...(checkpoints.resume.members === undefined
                ? {}
                : { members: checkpoints.resume.members }),
            },
          }),
          emit: (line) => sink([line]),
        });
      } catch (error) {
        // The first failure closes every transport so no other rank waits for it.
        if (failure === null) {
          failure = error;
          rejoins?.abort(error);
          await Promise.all([
            ...transports.map((transport) => transport.close()),
            rejoins?.close(),
          ]);
        }
        throw failure;
      }
    }));
    return { models, tensors: setups[0]!.model.tensors };
  } finally {
    await Promise.all([...transports.map((transport) => transport.close()), rejoins?.close()]);
    for (const setup of setups) setup.model.dispose();
  }
}
