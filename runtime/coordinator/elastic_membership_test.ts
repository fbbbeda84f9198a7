import assert from "node:assert/strict";
import { ElasticMembership, type MembershipActions } from "./elastic_membership.ts";
import type { MembershipLine } from "../metrics.ts";

/** Records what the membership does. */
function recorder() {
  const log: string[] = [];
  const lines: MembershipLine[] = [];
  const failures: string[] = [];
  const admitted: Record<number, unknown> = {};
  const members: Record<
    number,
    { epoch: number; members: number[]; addresses: string[]; rewindTo: number }
  > = {};
  const act: MembershipActions = {
    pause: (rank, epoch) => log.push(`pause ${rank} e${epoch}`),
    members: (rank, message) => {
      members[rank] = message;
      log.push(`members ${rank} e${message.epoch}`);
    },
    dismiss: (rank) => log.push(`dismiss ${rank}`),
    admit: (rank, terms) => {
      admitted[rank] = terms;
      log.push(`admit ${rank} e${terms.epoch}`);
    },
    record: (line) => lines.push(line),
    fail: (message) => failures.push(message),
  };
  return { act, log, lines, failures, members, admitted };
}

const paused = (epoch: number, step: number, snapshots: number[], address = "h:1") => ({
  epoch,
  step,
  snapshots,
  address,
});

Deno.test("a loss pauses every survivor; once all paused they rewind to the earliest step", () => {
  const r = recorder();
  const membership = new ElasticMembership(4, 3, r.act);
  membership.lose(2, "Worker 2 died");
  assert.deepEqual(r.log, ["dismiss 2", "pause 0 e1", "pause 1 e1", "pause 3 e1"]);
  assert.equal(membership.reforming, true);
  membership.paused(0, paused(1, 17, [15, 16, 17], "a:1"));
  membership.paused(3, paused(1, 16, [16], "d:4"));
  assert.equal(Object.keys(r.members).length, 0, "not before every survivor paused");
  membership.paused(1, paused(1, 17, [16, 17], "b:2"));
  // The earliest step any survivor was in: 16 (worker 3 was still in it).
  assert.deepEqual(r.members[0], {
    epoch: 1,
    members: [0, 1, 3],
    addresses: ["a:1", "b:2", "", "d:4"],
    rewindTo: 16,
    joined: [],
    donor: null,
  });
  assert.deepEqual(r.lines, [{
    type: "membership",
    step: 16,
    worker: 0,
    left: [2],
    members: [0, 1, 3],
    reason: "lost",
    detail: "Worker 2 died",
  }]);
  assert.deepEqual(membership.lost, [{ worker: 2, steps: 16, reason: "Worker 2 died" }]);
  assert.equal(membership.reforming, false);
  assert.deepEqual(r.failures, []);
});

Deno.test("a second loss while survivors pause starts the next epoch; stale answers are ignored", () => {
  const r = recorder();
  const membership = new ElasticMembership(5, 2, r.act);
  membership.lose(4, "Worker 4 died");
  membership.paused(0, paused(1, 9, [9]));
  membership.lose(1, "Worker 1 died");
  assert.equal(membership.epoch, 2);
  membership.paused(2, paused(1, 9, [9])); // epoch 1: stale
  membership.paused(0, paused(2, 9, [9]));
  membership.paused(2, paused(2, 10, [9, 10]));
  assert.equal(r.members[0], undefined);
  membership.paused(3, paused(2, 9, [8, 9]));
  assert.deepEqual(r.members[3]!.members, [0, 2, 3]);
  assert.equal(r.members[3]!.rewindTo, 9);
  assert.deepEqual(r.lines[0]!.left, [4, 1]);
  assert.deepEqual(membership.lost.map((entry) => entry.worker), [4, 1]);
});

Deno.test("below minWorkers the run fails naming the minimum; a survivor that cannot go back fails it too", () => {
  const below = recorder();
  new ElasticMembership(3, 3, below.act).lose(0, "Worker 0 died");
  assert.deepEqual(below.failures, [
    "Worker 0 died; 2 workers are left, fewer than the plan's minWorkers (3)",
  ]);
  const far = recorder();
  const membership = new ElasticMembership(3, 2, far.act);
  membership.lose(1, "Worker 1 died");
  membership.paused(0, paused(1, 3, [3]));
  membership.paused(2, paused(1, 7, [6, 7]));
  assert.deepEqual(far.failures, [
    "Worker 2 cannot go back to step 4 to continue without worker 1: it kept the state of steps 7, 8",
  ]);
  assert.equal(far.members[0], undefined);
});

Deno.test("a loss after the final barrier needs no pause: the worker did every step", () => {
  const r = recorder();
  const membership = new ElasticMembership(3, 2, r.act);
  membership.loseAtEnd(1, "Worker 1 died", 50);
  assert.deepEqual(r.log, []);
  assert.deepEqual(membership.live, [0, 2]);
  assert.deepEqual(membership.lost, [{ worker: 1, steps: 50, reason: "Worker 1 died" }]);
  assert.equal(r.lines[0]!.step, 50);
});

Deno.test("a lost worker that comes back joins after a pause, with the lowest live worker's state", () => {
  const r = recorder();
  const membership = new ElasticMembership(4, 2, r.act);
  membership.lose(2, "Worker 2 died");
  for (const rank of [0, 1, 3]) membership.paused(rank, paused(1, 10, [10], `h${rank}:1`));
  membership.join(2, "h2:9");
  assert.equal(membership.epoch, 2);
  membership.paused(1, paused(2, 31, [30, 31], "h1:2"));
  membership.paused(0, paused(2, 30, [30], "h0:2"));
  membership.paused(3, paused(2, 31, [30, 31], "h3:2"));
  // Every survivor gets the grown members and the joiner; the joiner gets its start.
  assert.deepEqual(r.members[0], {
    epoch: 2,
    members: [0, 1, 2, 3],
    addresses: ["h0:2", "h1:2", "h2:9", "h3:2"],
    rewindTo: 30,
    joined: [2],
    donor: 0,
  });
  assert.deepEqual(r.admitted[2], {
    epoch: 2,
    members: [0, 1, 2, 3],
    addresses: ["h0:2", "h1:2", "h2:9", "h3:2"],
    rewindTo: 30,
    donor: 0,
  });
  assert.deepEqual(r.lines[1], {
    type: "membership",
    step: 30,
    worker: 0,
    left: [],
    members: [0, 1, 2, 3],
    reason: "joined",
    joined: [2],
  });
  assert.deepEqual(membership.lost, [], "a worker that came back is no longer lost");
  assert.deepEqual(membership.live, [0, 1, 2, 3]);
});

Deno.test("a joiner lost before it joined: the paused survivors go on without it, nothing recorded", () => {
  const r = recorder();
  const membership = new ElasticMembership(3, 2, r.act);
  membership.lose(1, "Worker 1 died");
  for (const rank of [0, 2]) membership.paused(rank, paused(1, 5, [5]));
  membership.join(1, "h1:1");
  membership.paused(0, paused(2, 8, [8]));
  membership.lose(1, "Worker 1 died again");
  membership.paused(2, paused(2, 8, [8]));
  assert.deepEqual(r.members[0], {
    epoch: 2,
    members: [0, 2],
    addresses: ["h:1", "", "h:1"],
    rewindTo: 8,
    joined: [],
    donor: null,
  });
  assert.equal(r.lines.length, 1, "only the first loss");
  assert.equal(r.admitted[1], undefined);
});

Deno.test("the addresses cover every rank, a last rank that left included", () => {
  const r = recorder();
  const membership = new ElasticMembership(2, 1, r.act);
  membership.lose(1, "Worker 1 died");
  membership.paused(0, paused(1, 4, [4], "a:1"));
  // A mesh of one still needs the run's two entries.
  assert.deepEqual(r.members[0]!.addresses, ["a:1", ""]);
  assert.deepEqual(r.members[0]!.members, [0]);
});

Deno.test("losing a worker the run cannot go without (cada's server) fails the run, naming it; others shrink it", () => {
  const r = recorder();
  const membership = new ElasticMembership(4, 2, {
    ...r.act,
    essential: (rank) => rank === 0 ? "cada's server" : null,
  });
  membership.lose(3, "Worker 3 disconnected from the coordinator");
  assert.deepEqual(r.failures, []);
  assert.deepEqual(membership.live, [0, 1, 2]);
  membership.lose(0, "Worker 0 disconnected from the coordinator");
  assert.deepEqual(r.failures, [
    "worker 0, cada's server, was lost: Worker 0 disconnected from the coordinator",
  ]);
  // It is not dismissed or paused for: the run ends.
  assert.deepEqual(r.log, ["dismiss 3", "pause 0 e1", "pause 1 e1", "pause 2 e1"]);
});
