/**
 * The Job `gossamer k8s` writes, its pods played by local processes: each started with the
 * container's command, arguments, working folder and environment as Kubernetes would start pod
 * `i` (`JOB_COMPLETION_INDEX=i`), the image's `/app` played by a folder holding the plan where
 * the ConfigMap is mounted and the data it names, the Secret's file where it is mounted. Only the
 * rendezvous host is local (there is no cluster DNS here). The pods make a whole run equal to
 * `gossamer run` (up to rounding with two workers per pod, whose all-reduces are hierarchical).
 * Ignored where `gossamer worker` does not read a Kubernetes Indexed Job's place.
 */

import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { parseAllDocuments } from "../../deps/yaml.ts";
import { gossamer, ROOT } from "../_cli.ts";
import { assertSameRun } from "./_same_run.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const help = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", fromFileUrl(new URL("cli.ts", ROOT)), "worker", "--help"],
  stdout: "piped",
  stderr: "null",
}).outputSync();
const supported = new TextDecoder().decode(help.stdout).includes("JOB_COMPLETION_INDEX");

/** A port nobody listens on now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const ignored = supported ? "" : " (ignored: gossamer worker does not read JOB_COMPLETION_INDEX)";

Deno.test({
  name: `the Job's pods, run as local processes, make the run gossamer run makes${ignored}`,
  ignore: !supported,
  fn: () => playJob(1),
});

Deno.test({
  name:
    `with --local-workers 2, the Job's two pods run four workers with hierarchical all-reduces${ignored}`,
  ignore: !supported,
  fn: () => playJob(2),
});

/**
 * Generates the objects for the least-squares plan (four workers, `localWorkers` per pod), plays
 * the Job's pods as local processes, and checks the run against `gossamer run`: bit for bit with
 * a pod per worker; with several workers per pod, hierarchical all-reduces whose sums agree up
 * to rounding.
 */
async function playJob(localWorkers: number): Promise<void> {
  const port = freePort();
  const generated = await gossamer(
    "k8s",
    "examples/least_squares.ts",
    "--image",
    "gossamer:test",
    "--workers",
    "4",
    "--local-workers",
    String(localWorkers),
    "--name",
    "ls",
    "--port",
    String(port),
  );
  assert.equal(generated.code, 0, generated.stderr);
  const objects: Json[] = parseAllDocuments(generated.stdout).map((document) => document.toJS());
  const byKind = (kind: string) => objects.find((object) => object.kind === kind);
  const job = byKind("Job");
  const pod = job.spec.template.spec;
  const container = pod.containers[0];
  const mount = (volume: string) =>
    container.volumeMounts.find((entry: Json) => entry.name === volume).mountPath as string;

  const root = await Deno.makeTempDir({ prefix: "gossamer_k8s_pods_" });
  try {
    // Paths inside the container, mapped into this folder; the command's cli.ts is this
    // repository's.
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
    assert.ok(secretFile.startsWith(`${mount("secret")}/`));
    await Deno.mkdir(local(dirname(secretFile)), { recursive: true });
    await Deno.writeTextFile(local(secretFile), byKind("Secret").stringData.secret);
    await Deno.mkdir(local(mount("runs")));

    const [deno, ...command] = container.command as string[];
    assert.equal(deno, "deno");
    const cli = command.at(-1)!;
    const args = [
      ...command.slice(0, -1),
      fromFileUrl(new URL("cli.ts", ROOT)),
      ...(container.args as string[]).map((arg) =>
        arg.startsWith("/") && arg !== cli ? local(arg) : arg
      ),
    ];
    const env: Record<string, string> = {};
    for (const entry of container.env) {
      env[entry.name] = entry.name === "GOSSAMER_SECRET_FILE"
        ? local(entry.value)
        : entry.name === "GOSSAMER_RENDEZVOUS"
        ? entry.value.replace(/^[^:]+:/, "127.0.0.1:")
        : entry.value;
    }
    assert.equal(env.GOSSAMER_RENDEZVOUS, `127.0.0.1:${port}`);

    const pods = Array.from(
      { length: job.spec.completions },
      (_, index) =>
        new Deno.Command(Deno.execPath(), {
          args,
          cwd: app,
          env: { ...env, JOB_COMPLETION_INDEX: String(index) },
          stdout: "piped",
          stderr: "piped",
          signal: AbortSignal.timeout(120_000),
        }).output(),
    );
    const decoder = new TextDecoder();
    for (const [index, result] of (await Promise.all(pods)).entries()) {
      assert.equal(
        result.code,
        0,
        `pod ${index}: ${decoder.decode(result.stdout)}${decoder.decode(result.stderr)}`,
      );
    }

    const runFolder = local(container.args[container.args.indexOf("--out") + 1]);
    const summary = JSON.parse(await Deno.readTextFile(`${runFolder}/summary.json`));
    assert.equal(summary.status, "completed");
    const reference = await gossamer(
      "run",
      "examples/least_squares.ts",
      "--out",
      `${root}/reference`,
      "--quiet",
    );
    assert.equal(reference.code, 0, reference.stderr);
    assert.equal(job.spec.completions, 4 / localWorkers);
    if (localWorkers === 1) {
      // The same run, bit for bit: parameters, and every metrics line but its timings.
      await assertSameRun(runFolder, `${root}/reference`);
    } else {
      assert.equal(summary.allReduce, "hierarchical");
      const reference = JSON.parse(await Deno.readTextFile(`${root}/reference/summary.json`));
      const [got, expected] = [summary.final.testLoss, reference.final.testLoss];
      assert.ok(Math.abs(got - expected) <= 1e-5 * Math.abs(expected), `${got} ${expected}`);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
