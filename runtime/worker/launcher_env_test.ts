import assert from "node:assert/strict";
import {
  DEFAULT_PORT,
  describePlace,
  type Environment,
  LauncherEnvError,
  placeFromEnvironment,
} from "./launcher_env.ts";

const SLURM = {
  SLURM_PROCID: "3",
  SLURM_NTASKS: "8",
  SLURM_LOCALID: "1",
  SLURM_STEP_NODELIST: "node[07-09],gpu1",
  SLURM_JOB_NODELIST: "login[1-2]",
};
const KUBERNETES = {
  JOB_COMPLETION_INDEX: "2",
  GOSSAMER_WORLD: "6",
  GOSSAMER_RENDEZVOUS: "train-0.train:29500",
};
const TORCHRUN = {
  RANK: "5",
  WORLD_SIZE: "7",
  LOCAL_RANK: "0",
  MASTER_ADDR: "10.0.0.9",
  MASTER_PORT: "6001",
};

/** The message of the error a place throws. */
function failure(env: Environment, flags = {}, workers?: number): string {
  try {
    placeFromEnvironment(env, flags, workers);
  } catch (error) {
    assert.ok(error instanceof LauncherEnvError, String(error));
    return error.message;
  }
  assert.fail("expected a LauncherEnvError");
}

Deno.test("each launcher's variables give rank, world, local rank and rendezvous", () => {
  const slurm = placeFromEnvironment(SLURM);
  assert.deepEqual(
    [slurm.launcher, slurm.rank, slurm.world, slurm.localRank, slurm.rendezvous],
    ["slurm", 3, 8, 1, `node07:${DEFAULT_PORT}`],
  );
  const kubernetes = placeFromEnvironment(KUBERNETES);
  assert.deepEqual(
    [kubernetes.launcher, kubernetes.rank, kubernetes.world, kubernetes.localRank],
    ["kubernetes", 2, 6, null],
  );
  assert.equal(kubernetes.rendezvous, "train-0.train:29500");
  assert.deepEqual(kubernetes.sources, {
    rank: "JOB_COMPLETION_INDEX",
    world: "GOSSAMER_WORLD",
    rendezvous: "GOSSAMER_RENDEZVOUS",
    localRank: null,
  });
  const torchrun = placeFromEnvironment(TORCHRUN);
  assert.deepEqual(
    [torchrun.launcher, torchrun.rank, torchrun.world, torchrun.localRank, torchrun.rendezvous],
    ["torchrun", 5, 7, 0, "10.0.0.9:6001"],
  );
  const own = placeFromEnvironment({
    GOSSAMER_RANK: "0",
    GOSSAMER_WORLD: "2",
    GOSSAMER_RENDEZVOUS: "[fd00::1]:7000",
  });
  assert.deepEqual([own.launcher, own.rank, own.world, own.rendezvous], [
    "gossamer",
    0,
    2,
    "[fd00::1]:7000",
  ]);
});

Deno.test("flags, then gossamer's variables, then Slurm, Kubernetes, torchrun", () => {
  const all = { ...TORCHRUN, ...KUBERNETES, ...SLURM, GOSSAMER_RANK: "4" };
  const flags = { rank: 1, world: 9, rendezvous: "head:1234" };
  const fromFlags = placeFromEnvironment(all, flags);
  assert.deepEqual(
    [fromFlags.launcher, fromFlags.rank, fromFlags.world, fromFlags.rendezvous],
    ["command line", 1, 9, "head:1234"],
  );
  // GOSSAMER_WORLD and GOSSAMER_RENDEZVOUS (from KUBERNETES) outrank Slurm's own.
  const gossamer = placeFromEnvironment(all);
  assert.deepEqual(
    [gossamer.launcher, gossamer.rank, gossamer.world, gossamer.rendezvous],
    ["gossamer", 4, 6, "train-0.train:29500"],
  );
  assert.equal(gossamer.localRank, null, "a local rank from Slurm belongs to Slurm's rank");
  const { GOSSAMER_RANK: _, ...withoutGossamerRank } = all;
  assert.equal(placeFromEnvironment(withoutGossamerRank).launcher, "slurm");
  assert.equal(placeFromEnvironment({ ...TORCHRUN, ...KUBERNETES }).launcher, "kubernetes");
  // A flag overrides one part only; the rest still comes from the launcher.
  const mixed = placeFromEnvironment(SLURM, { rendezvous: "10.1.2.3:4000" });
  assert.deepEqual([mixed.launcher, mixed.rank, mixed.world, mixed.rendezvous], [
    "slurm",
    3,
    8,
    "10.1.2.3:4000",
  ]);
  assert.equal(mixed.sources.rendezvous, "--rendezvous");
});

Deno.test("Slurm's rendezvous: the step's first node, else the job's; GOSSAMER_PORT, MASTER_PORT, 29500", () => {
  const { SLURM_STEP_NODELIST: _, ...jobOnly } = SLURM;
  assert.equal(placeFromEnvironment(jobOnly).rendezvous, "login1:29500");
  assert.equal(placeFromEnvironment({ ...SLURM, MASTER_PORT: "7001" }).rendezvous, "node07:7001");
  assert.equal(
    placeFromEnvironment({ ...SLURM, MASTER_PORT: "7001", GOSSAMER_PORT: "7002" }).rendezvous,
    "node07:7002",
  );
  assert.equal(
    placeFromEnvironment({ ...TORCHRUN, GOSSAMER_PORT: "7002" }).rendezvous,
    "10.0.0.9:7002",
  );
  assert.equal(
    placeFromEnvironment({ ...SLURM, SLURM_STEP_NODELIST: "" }).rendezvous,
    "login1:29500",
    "an empty variable counts as unset",
  );
  assert.match(
    failure({ ...SLURM, SLURM_STEP_NODELIST: "node[07-09" }),
    /^SLURM_STEP_NODELIST: The host list "node\[07-09" leaves a bracket open/,
  );
  assert.match(failure({ ...SLURM, GOSSAMER_PORT: "70000" }), /GOSSAMER_PORT has the port "70000"/);
});

Deno.test("IPv6 rendezvous addresses are bracketed, and an unbracketed one with a port is refused", () => {
  const place = (env: Environment) =>
    placeFromEnvironment({ GOSSAMER_RANK: "0", GOSSAMER_WORLD: "1", ...env });
  assert.equal(place({ GOSSAMER_RENDEZVOUS: "[::1]:29501" }).rendezvous, "[::1]:29501");
  assert.equal(place({ GOSSAMER_RENDEZVOUS: "[::1]" }).rendezvous, "[::1]:29500");
  assert.equal(place({ GOSSAMER_RENDEZVOUS: "head" }).rendezvous, "head:29500");
  assert.equal(
    placeFromEnvironment({ ...TORCHRUN, MASTER_ADDR: "fd00::9" }).rendezvous,
    "[fd00::9]:6001",
  );
  assert.match(
    failure({ GOSSAMER_RANK: "0", GOSSAMER_WORLD: "1", GOSSAMER_RENDEZVOUS: "::1:29500" }),
    /GOSSAMER_RENDEZVOUS is "::1:29500": write an IPv6 address in brackets, as \[::1\]:29500/,
  );
  assert.match(
    failure({}, { rank: 0, world: 1, rendezvous: "head:" }),
    /--rendezvous has the port "", but a port is 1 to 65535/,
  );
  assert.match(
    failure({}, { rank: 0, world: 1, rendezvous: ":4000" }),
    /--rendezvous is "", which is not a host name or address/,
  );
});

Deno.test("missing and contradictory variables are named", () => {
  assert.match(
    failure({}),
    /^No rank for this worker: pass --rank, set GOSSAMER_RANK, or start it under a launcher/,
  );
  assert.match(
    failure({ JOB_COMPLETION_INDEX: "1" }),
    /Worker 1 has its rank from JOB_COMPLETION_INDEX but no world size: pass --world or set GOSSAMER_WORLD \(an Indexed Job sets only JOB_COMPLETION_INDEX/,
  );
  assert.match(
    failure({ JOB_COMPLETION_INDEX: "1", GOSSAMER_WORLD: "2" }),
    /no rendezvous address: pass --rendezvous or set GOSSAMER_RENDEZVOUS/,
  );
  // A stray torchrun variable does not stand in for Slurm's missing one.
  assert.match(
    failure({ SLURM_PROCID: "0", WORLD_SIZE: "4", SLURM_STEP_NODELIST: "vm" }),
    /from SLURM_PROCID but no world size: .*srun sets SLURM_NTASKS/,
  );
  assert.match(
    failure({ ...SLURM, SLURM_PROCID: "8" }),
    /^The rank 8 \(SLURM_PROCID\) is not below the world size 8 \(SLURM_NTASKS\)$/,
  );
  assert.match(
    failure({ ...SLURM }, { world: 2 }),
    /^The rank 3 \(SLURM_PROCID\) is not below the world size 2 \(--world\)$/,
  );
  assert.match(
    failure({ ...TORCHRUN, LOCAL_RANK: "6" }),
    /The local rank 6 \(LOCAL_RANK\) exceeds the rank 5 \(RANK\)/,
  );
  assert.match(
    failure(SLURM, {}, 4),
    /^The world size 8 \(SLURM_NTASKS\) differs from the plan's 4 workers: start 4 tasks \(srun -n 4\), or change the plan$/,
  );
  assert.match(failure(KUBERNETES, {}, 4), /GOSSAMER_WORLD\) differs .*: set GOSSAMER_WORLD=4/);
  assert.match(failure(TORCHRUN, {}, 4), /torchrun --nnodes × --nproc-per-node/);
  assert.match(
    failure({ ...SLURM, SLURM_PROCID: "three" }),
    /^SLURM_PROCID is "three", but it must be a whole number of at least 0/,
  );
  assert.match(
    failure({ ...TORCHRUN, WORLD_SIZE: "0" }),
    /^WORLD_SIZE is "0", but it must be a whole number of at least 1/,
  );
  assert.equal(placeFromEnvironment(SLURM, {}, 8).world, 8);
});

Deno.test("the launcher line names the launcher and every variable used", () => {
  assert.equal(
    describePlace(placeFromEnvironment(SLURM)),
    "Launcher: slurm; rank 3 of 8, local rank 1 (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID); rendezvous node07:29500 (first host of SLURM_STEP_NODELIST, the default port)",
  );
  assert.equal(
    describePlace(placeFromEnvironment({}, { rank: 0, world: 2, rendezvous: "127.0.0.1:4000" })),
    "Launcher: command line; rank 0 of 2 (--rank, --world); rendezvous 127.0.0.1:4000 (--rendezvous)",
  );
});
