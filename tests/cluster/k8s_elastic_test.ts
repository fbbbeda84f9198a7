/**
 * `gossamer k8s` for an elastic plan: the Job's fields that let a lost worker pod restart and
 * rejoin (parsed from the YAML, exact values), and the Job played by local processes as
 * `k8s_job_test.ts` plays it: pod 2 is killed mid-run (its whole process group, as a node loss
 * would), started again with the same command and environment as Kubernetes starts a retried
 * index, and the run completes with four workers, `summary.json` recording the loss and the join.
 */

import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { parseAllDocuments } from "../../deps/yaml.ts";
import { gossamer, ROOT } from "../_cli.ts";
import { COORDINATOR_FAILED_EXIT } from "../../cli/k8s_manifest.ts";
import { freePort } from "../runtime/_processes.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const PIPELINE = "tests/cluster/_elastic_least_squares.ts";

/** The objects `gossamer k8s` writes for `input`, parsed. */
async function objectsFor(input: string, port: number, ...more: string[]): Promise<Json[]> {
  const generated = await gossamer(
    "k8s",
    input,
    "--image",
    "gossamer:test",
    "--workers",
    "4",
    "--name",
    "ls",
    "--port",
    String(port),
    ...more,
  );
  assert.equal(generated.code, 0, generated.stderr);
  return parseAllDocuments(generated.stdout).map((document) => document.toJS());
}

const jobOf = (objects: Json[]) => objects.find((object) => object.kind === "Job");

Deno.test("for an elastic plan the Job retries each index, fails at once on pod 0, ignores disruptions and succeeds with pod 0", async () => {
  const job = jobOf(await objectsFor(PIPELINE, 29500, "--restarts", "5"));
  assert.equal(job.spec.backoffLimitPerIndex, 5);
  assert.equal(
    job.spec.backoffLimit,
    undefined,
    "a total limit would end the Job at the first loss",
  );
  assert.equal(job.spec.template.spec.restartPolicy, "Never");
  assert.equal(job.spec.completionMode, "Indexed");
  assert.deepEqual(job.spec.podFailurePolicy, {
    rules: [
      {
        action: "FailJob",
        onExitCodes: { containerName: "worker", operator: "In", values: [COORDINATOR_FAILED_EXIT] },
      },
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] },
    ],
  });
  assert.deepEqual(job.spec.successPolicy, { rules: [{ succeededIndexes: "0" }] });
  const container = job.spec.template.spec.containers[0];
  assert.equal(container.name, "worker");
  assert.deepEqual(container.command.slice(0, 2), ["/bin/sh", "-c"]);
  assert.deepEqual(container.command.slice(3), ["deno", "run", "-A", "/app/cli.ts"]);

  const defaults = jobOf(await objectsFor(PIPELINE, 29500));
  assert.equal(defaults.spec.backoffLimitPerIndex, 3);
});

Deno.test("the elastic wrapper: pod 0's failure exits 86, another pod's keeps its code, success is 0", async () => {
  const container = jobOf(await objectsFor(PIPELINE, 29500)).spec.template.spec.containers[0];
  const wrapper = container.command as string[];
  const exit = async (index: string, code: number) =>
    (await new Deno.Command(wrapper[0]!, {
      args: [...wrapper.slice(1, 3), "sh", "-c", `exit ${code}`],
      env: { JOB_COMPLETION_INDEX: index },
    }).output()).code;
  assert.equal(await exit("0", 1), COORDINATOR_FAILED_EXIT);
  assert.equal(await exit("0", 0), 0);
  assert.equal(await exit("2", 1), 1);
  assert.equal(await exit("2", 0), 0);
});

Deno.test("a plan that is not elastic keeps backoffLimit 0 and the image's command", async () => {
  const job = jobOf(await objectsFor("examples/least_squares.ts", 29500, "--restarts", "5"));
  assert.equal(job.spec.backoffLimit, 0);
  for (const field of ["backoffLimitPerIndex", "podFailurePolicy", "successPolicy"]) {
    assert.equal(job.spec[field], undefined, field);
  }
  assert.deepEqual(job.spec.template.spec.containers[0].command, [
    "deno",
    "run",
    "-A",
    "/app/cli.ts",
  ]);
});

/** Waits until the run folder's metrics hold `count` membership lines. */
async function waitForMembership(folder: string, count: number): Promise<void> {
  for (let waited = 0; waited < 90_000; waited += 50) {
    const text = await Deno.readTextFile(`${folder}/metrics.jsonl`).catch(() => "");
    if (text.split('"type":"membership"').length - 1 >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${folder}/metrics.jsonl has no ${count} membership lines after 90 s`);
}

/** Waits until the run folder's metrics have `lines` lines (the run is under way). */
async function waitForLines(folder: string, lines: number): Promise<void> {
  for (let waited = 0; waited < 90_000; waited += 50) {
    const text = await Deno.readTextFile(`${folder}/metrics.jsonl`).catch(() => "");
    if (text.split("\n").length > lines) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${folder}/metrics.jsonl has no ${lines} lines after 90 s`);
}

Deno.test("the elastic Job played locally: pod 2 killed mid-run and restarted as Kubernetes would rejoins, and the run ends with 4 workers", async () => {
  const port = freePort();
  const objects = await objectsFor(PIPELINE, port);
  const byKind = (kind: string) => objects.find((object) => object.kind === kind);
  const job = jobOf(objects);
  const container = job.spec.template.spec.containers[0];
  const mount = (volume: string) =>
    container.volumeMounts.find((entry: Json) => entry.name === volume).mountPath as string;

  const root = await Deno.makeTempDir({ prefix: "gossamer_k8s_elastic_" });
  const children: Deno.ChildProcess[] = [];
  try {
    const local = (path: string) => `${root}${path}`;
    const app = local(container.workingDir);
    await Deno.mkdir(`${app}/examples/data`, { recursive: true });
    await Deno.copyFile(
      fromFileUrl(new URL("examples/data/least_squares_4.json", ROOT)),
      `${app}/examples/data/least_squares_4.json`,
    );
    await Deno.writeTextFile(local(mount("plan")), byKind("ConfigMap").data["plan.json"]);
    const secretFile = container.env.find((entry: Json) => entry.name === "GOSSAMER_SECRET_FILE")
      .value as string;
    await Deno.mkdir(local(dirname(secretFile)), { recursive: true });
    await Deno.writeTextFile(local(secretFile), byKind("Secret").stringData.secret);
    await Deno.mkdir(local(mount("runs")));

    // The wrapper's shell, then the image's command with this repository's deno and cli.ts.
    const [shell, ...command] = container.command as string[];
    const words = [
      ...command.map((word) =>
        word === "deno"
          ? Deno.execPath()
          : word === "/app/cli.ts"
          ? fromFileUrl(new URL("cli.ts", ROOT))
          : word
      ),
      ...(container.args as string[]).map((arg) => arg.startsWith("/") ? local(arg) : arg),
    ];
    const env: Record<string, string> = {};
    for (const entry of container.env) {
      env[entry.name] = entry.name === "GOSSAMER_SECRET_FILE"
        ? local(entry.value)
        : entry.name === "GOSSAMER_RENDEZVOUS"
        ? entry.value.replace(/^[^:]+:/, "127.0.0.1:")
        : entry.value;
    }
    // A pod: its own process group, so that killing it kills the wrapper and the worker.
    const startPod = (index: number) => {
      const child = new Deno.Command(shell!, {
        args: words,
        cwd: app,
        env: { ...env, JOB_COMPLETION_INDEX: String(index) },
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
      children.push(child);
      return child;
    };
    const pods = [0, 1, 2, 3].map(startPod);
    const runFolder = local(container.args[container.args.indexOf("--out") + 1]);

    await waitForLines(runFolder, 120);
    Deno.kill(-pods[2]!.pid, "SIGKILL");
    const killed = await pods[2]!.output();
    assert.notEqual(killed.code, 0);
    await waitForMembership(runFolder, 1);
    const restarted = startPod(2);

    const decoder = new TextDecoder();
    for (const [index, pod] of [pods[0]!, pods[1]!, restarted, pods[3]!].entries()) {
      const result = await pod.output();
      assert.equal(
        result.code,
        0,
        `pod ${index}: ${decoder.decode(result.stdout)}${decoder.decode(result.stderr)}`,
      );
    }
    const summary = JSON.parse(await Deno.readTextFile(`${runFolder}/summary.json`));
    assert.equal(summary.status, "completed");
    assert.deepEqual(
      summary.membership.map((change: Json) => [
        change.reason,
        change.left,
        change.members,
        change.joined ?? [],
      ]),
      [["lost", [2], [0, 1, 3], []], ["joined", [], [0, 1, 2, 3], [2]]],
    );
    const params = JSON.parse(await Deno.readTextFile(`${runFolder}/params.json`));
    assert.equal(params.left, undefined, "nobody is missing at the end");
    for (const rank of [1, 2, 3]) assert.deepEqual(params.workers[rank], params.workers[0]);
  } finally {
    for (const child of children) {
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch { /* already gone */ }
      await child.output().catch(() => {});
    }
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the elastic wrapper passes a TERM (pod deletion) on to the worker and reports pod 0's end as 86", async () => {
  const container = jobOf(await objectsFor(PIPELINE, 29500)).spec.template.spec.containers[0];
  const wrapper = container.command as string[];
  const dir = await Deno.makeTempDir({ prefix: "gossamer_k8s_wrapper_" });
  try {
    const child = new Deno.Command(wrapper[0]!, {
      args: [...wrapper.slice(1, 3), "sh", "-c", `echo "$$" > "${dir}/pid"; exec sleep 60`],
      env: { JOB_COMPLETION_INDEX: "0" },
    }).spawn();
    let pid = "";
    while (pid === "") {
      pid = (await Deno.readTextFile(`${dir}/pid`).catch(() => "")).trim();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGTERM");
    assert.equal((await child.status).code, COORDINATOR_FAILED_EXIT);
    // The worker got the TERM and is gone: nothing is left running in the pod.
    assert.throws(() => Deno.kill(Number(pid), "SIGCONT"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
