/**
 * An elastic run across four network namespaces (hosts) whose third host's link is cut mid-run
 * (`ip link set eth0 down` inside it): nothing is closed, the host just goes silent. Its peers'
 * collectives time out, they report it, the coordinator (on host 0) declares it lost, and the
 * other three finish the run. Root only; elsewhere the test is ignored, saying why.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { reap, type Started, waitForMetrics } from "../runtime/_processes.ts";
import { leastSquaresPipeline, tempRunFolder } from "../runtime/_plans.ts";
import { namespaceTestsBlocked, startWorkerIn, withNamespaces } from "./_netns.ts";
import { allReduce, network } from "../../mod.ts";

const BLOCKED = namespaceTestsBlocked();
const ignored = BLOCKED === null ? "" : ` (ignored: ${BLOCKED})`;

Deno.test({
  name: `a host whose link is cut mid-run is lost; the other three finish the run${ignored}`,
  ignore: BLOCKED !== null,
  async fn() {
    const parent = await tempRunFolder();
    const plan = leastSquaresPipeline(400).base(allReduce()).elastic({ minWorkers: 3 })
      .network(network({ latency: "4ms" })).compile();
    const planFile = join(parent, "plan.json");
    await Deno.writeTextFile(planFile, JSON.stringify(plan));
    const folder = join(parent, "run");
    try {
      await withNamespaces(["100mbit", "100mbit", "100mbit", "100mbit"], async (hosts) => {
        const rendezvous = `${hosts[0]!.address}:29500`;
        const workers: Started[] = hosts.map((host, rank) =>
          startWorkerIn(host, { rank, world: 4, rendezvous }, [
            "--plan",
            planFile,
            "--out",
            folder,
            "--host",
            host.address,
            "--peer-timeout",
            "2000",
          ])
        );
        try {
          await waitForMetrics(folder, 120);
          const cut = await new Deno.Command("ip", {
            args: ["-n", hosts[2]!.name, "link", "set", "eth0", "down"],
          }).output();
          assert.ok(cut.success, "ip link set eth0 down");
          const results = await Promise.all([0, 1, 3].map((rank) => workers[rank]!.output));
          results.forEach((result, i) =>
            assert.equal(result.code, 0, results.map((r) => r.stderr).join("\n----\n") + i)
          );
          // The cut-off worker hears nothing more: it gives up on its own, or is stopped here.
        } finally {
          await Promise.all(workers.map(reap));
        }
      });
      const summary = JSON.parse(await Deno.readTextFile(join(folder, "summary.json")));
      assert.equal(summary.status, "completed");
      assert.equal(summary.membership.length, 1, JSON.stringify(summary.membership));
      const [change] = summary.membership;
      assert.deepEqual([change.left, change.members, change.reason], [[2], [0, 1, 3], "lost"]);
      assert.match(change.detail, /cannot reach worker 2|worker 2/i);
      const params = JSON.parse(await Deno.readTextFile(join(folder, "params.json")));
      assert.deepEqual(params.left, [{ worker: 2, steps: change.step }]);
      // All-reduce keeps the survivors' models equal.
      assert.deepEqual(params.workers[1], params.workers[0]);
      assert.deepEqual(params.workers[3], params.workers[0]);
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});
