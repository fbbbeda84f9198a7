/**
 * `gossamer k8s`: every object of the YAML it prints, parsed back (kinds, names, the Service
 * selecting the Job's pods, completions, the environment a worker reads, mounts that point at
 * the ConfigMap and Secret), the plan as `gossamer plan --json` prints it and where it is
 * mounted, the namespace on every object, and refused names.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { parseAllDocuments } from "../deps/yaml.ts";
import { gossamer, gossamerIn, ROOT, STACK_LINE } from "./_cli.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** The objects of a multi-document YAML, failing on any parse error or warning. */
function objectsOf(yaml: string): Json[] {
  return parseAllDocuments(yaml).map((document) => {
    assert.deepEqual(document.errors, []);
    assert.deepEqual(document.warnings, []);
    return document.toJS();
  });
}

/** The object of a kind. */
function ofKind(objects: Json[], kind: string): Json {
  const found = objects.filter((object) => object.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
}

/** The plan `gossamer plan --json` prints, from the repository root. */
async function printedPlan(input: string): Promise<Json> {
  const result = await gossamer("plan", input, "--json");
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout).plan;
}

/** The Dockerfile's ENTRYPOINT, as the exec-form JSON array it is written in. */
async function dockerEntrypoint(): Promise<string[]> {
  const dockerfile = await Deno.readTextFile(new URL("Dockerfile", ROOT));
  const line = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile);
  assert.ok(line, "the Dockerfile has an exec-form ENTRYPOINT");
  return JSON.parse(line[1]!);
}

Deno.test("k8s prints a ConfigMap, a Secret, a headless Service and an Indexed Job that fit together", async () => {
  const result = await gossamer(
    "k8s",
    "examples/quickstart.ts",
    "--image",
    "registry.example/gossamer:1",
    "--workers",
    "8",
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const objects = objectsOf(result.stdout);
  // Created in this order, so what the Job mounts exists before its pods start.
  assert.deepEqual(
    objects.map((object) => [object.apiVersion, object.kind, object.metadata.name]),
    [
      ["v1", "ConfigMap", "quickstart-plan"],
      ["v1", "Secret", "quickstart-secret"],
      ["v1", "Service", "quickstart"],
      ["batch/v1", "Job", "quickstart"],
    ],
  );
  for (const object of objects) assert.equal(object.metadata.namespace, undefined);

  const configMap = ofKind(objects, "ConfigMap");
  assert.deepEqual(Object.keys(configMap.data), ["plan.json"]);
  assert.deepEqual(
    JSON.parse(configMap.data["plan.json"]),
    await printedPlan("examples/quickstart.ts"),
  );

  const secret = ofKind(objects, "Secret");
  assert.deepEqual(Object.keys(secret.stringData), ["secret"]);
  assert.match(secret.stringData.secret, /^[0-9a-f]{64}$/);

  const service = ofKind(objects, "Service");
  assert.equal(service.spec.clusterIP, "None");
  assert.deepEqual(service.spec.ports, [{ name: "rendezvous", port: 29500, targetPort: 29500 }]);

  const job = ofKind(objects, "Job");
  assert.equal(job.spec.completionMode, "Indexed");
  assert.equal(job.spec.completions, 8);
  assert.equal(job.spec.parallelism, 8);
  assert.equal(job.spec.backoffLimit, 0);
  const pod = job.spec.template.spec;
  assert.equal(pod.restartPolicy, "Never");
  // Pods are <job>-<index>.<subdomain>: the subdomain must be the headless Service.
  assert.equal(pod.subdomain, service.metadata.name);
  // The Service selects exactly the Job's pods: its every label is on the pod template.
  const podLabels = job.spec.template.metadata.labels;
  assert.ok(Object.keys(service.spec.selector).length > 0);
  for (const [key, value] of Object.entries(service.spec.selector)) {
    assert.equal(podLabels[key], value, `pod label ${key}`);
  }

  assert.equal(pod.containers.length, 1);
  const container = pod.containers[0];
  assert.equal(container.image, "registry.example/gossamer:1");
  assert.deepEqual(container.command, await dockerEntrypoint());
  assert.deepEqual(container.ports, [{ name: "rendezvous", containerPort: 29500 }]);
  const env = Object.fromEntries(
    container.env.map((entry: Json) => [entry.name, entry.value]),
  );
  assert.deepEqual(Object.keys(env).sort(), [
    "GOSSAMER_RENDEZVOUS",
    "GOSSAMER_SECRET_FILE",
    "GOSSAMER_WORLD",
  ]);
  assert.equal(env.GOSSAMER_WORLD, "8");
  assert.equal(env.GOSSAMER_RENDEZVOUS, "quickstart-0.quickstart:29500");

  // Every mount is backed by the object it should be.
  const volumes = Object.fromEntries(pod.volumes.map((volume: Json) => [volume.name, volume]));
  const mountOf = (name: string) => {
    const mounts = container.volumeMounts.filter((mount: Json) => mount.name === name);
    assert.equal(mounts.length, 1, `one mount of ${name}`);
    return mounts[0];
  };
  const planMount = mountOf("plan");
  assert.equal(volumes.plan.configMap.name, configMap.metadata.name);
  assert.equal(planMount.subPath, "plan.json");
  assert.equal(planMount.readOnly, true);
  const secretMount = mountOf("secret");
  assert.equal(volumes.secret.secret.secretName, secret.metadata.name);
  assert.equal(secretMount.readOnly, true);
  assert.equal(env.GOSSAMER_SECRET_FILE, `${secretMount.mountPath}/secret`);
  assert.equal(volumes.secret.secret.defaultMode, 0o440);
  assert.deepEqual(volumes.runs.emptyDir, {});
  assert.equal(mountOf("runs").mountPath, "/runs");
  assert.deepEqual(container.args, [
    "worker",
    "--plan",
    planMount.mountPath,
    "--out",
    "/runs/quickstart",
    "--host",
    "0.0.0.0",
  ]);
  // The plan lies in the folder the image holds the repository in, the container's own.
  assert.equal(planMount.mountPath, "/app/quickstart.plan.json");
  assert.equal(container.workingDir, "/app");
  assert.match(result.stdout, /persistentVolumeClaim/);

  // Every run gets its own secret.
  const again = objectsOf(
    (await gossamer("k8s", "examples/quickstart.ts", "--image", "i", "--workers", "8")).stdout,
  );
  assert.notEqual(ofKind(again, "Secret").stringData.secret, secret.stringData.secret);
});

Deno.test("k8s puts every object in the namespace and uses the name, port and workers given", async () => {
  const result = await gossamer(
    "k8s",
    "examples/quickstart.ts",
    "--image",
    "gossamer:dev",
    "--workers",
    "4",
    "--namespace",
    "ml-team",
    "--name",
    "mnist-run",
    "--port",
    "31000",
  );
  assert.equal(result.code, 0, result.stderr);
  const objects = objectsOf(result.stdout);
  assert.deepEqual(objects.map((object) => [object.metadata.namespace, object.metadata.name]), [
    ["ml-team", "mnist-run-plan"],
    ["ml-team", "mnist-run-secret"],
    ["ml-team", "mnist-run"],
    ["ml-team", "mnist-run"],
  ]);
  const job = ofKind(objects, "Job");
  assert.equal(job.spec.completions, 4);
  assert.equal(job.spec.parallelism, 4);
  const container = job.spec.template.spec.containers[0];
  const env = Object.fromEntries(
    container.env.map((entry: Json) => [entry.name, entry.value]),
  );
  assert.equal(env.GOSSAMER_WORLD, "4");
  assert.equal(env.GOSSAMER_RENDEZVOUS, "mnist-run-0.mnist-run:31000");
  assert.deepEqual(container.ports, [{ name: "rendezvous", containerPort: 31000 }]);
  assert.equal(ofKind(objects, "Service").spec.ports[0].port, 31000);
  // --workers overrides the plan's, as run --workers does; nothing else changes.
  const printed = await printedPlan("examples/quickstart.ts");
  assert.deepEqual(JSON.parse(ofKind(objects, "ConfigMap").data["plan.json"]), {
    ...printed,
    workers: 4,
  });
});

Deno.test("k8s --local-workers runs fewer pods, each with its workers as threads on as many CPUs", async () => {
  const result = await gossamer(
    "k8s",
    "examples/quickstart.ts",
    "--image",
    "i",
    "--workers",
    "8",
    "--local-workers",
    "4",
  );
  assert.equal(result.code, 0, result.stderr);
  const objects = objectsOf(result.stdout);
  const job = ofKind(objects, "Job");
  assert.equal(job.spec.completions, 2);
  assert.equal(job.spec.parallelism, 2);
  const container = job.spec.template.spec.containers[0];
  assert.deepEqual(container.args.slice(-2), ["--local-workers", "4"]);
  const env = Object.fromEntries(
    container.env.map((entry: Json) => [entry.name, entry.value]),
  );
  // The world a pod reads counts pods; the plan keeps its 8 workers.
  assert.equal(env.GOSSAMER_WORLD, "2");
  assert.equal(JSON.parse(ofKind(objects, "ConfigMap").data["plan.json"]).workers, 8);
  assert.deepEqual(container.resources, { requests: { cpu: "4" } });
  assert.match(
    result.stdout,
    /^# 8 gossamer workers: an Indexed Job, 2 pods of 4 thread workers,/m,
  );
});

Deno.test("k8s names the objects after the pipeline when no name is given", async () => {
  const result = await gossamer(
    "k8s",
    "examples/all_reduce_mnist.ts",
    "--image",
    "i",
    "--workers",
    "2",
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(ofKind(objectsOf(result.stdout), "Job").metadata.name, "all-reduce-mnist");
});

Deno.test("the plan, mounted where the Job mounts it, finds its files in an image built from here", async () => {
  const result = await gossamer(
    "k8s",
    "examples/least_squares.ts",
    "--image",
    "i",
    "--workers",
    "4",
    "--name",
    "ls",
  );
  assert.equal(result.code, 0, result.stderr);
  const objects = objectsOf(result.stdout);
  const plan = JSON.parse(ofKind(objects, "ConfigMap").data["plan.json"]);
  assert.equal(plan.data.file, "examples/data/least_squares_4.json");
  // A stand-in for the image: this repository's data file under an "app" folder, and the plan
  // where the Job mounts it (/app/<name>.plan.json).
  const app = await Deno.makeTempDir({ prefix: "gossamer_k8s_app_" });
  try {
    await Deno.mkdir(`${app}/examples/data`, { recursive: true });
    await Deno.copyFile(
      fromFileUrl(new URL("examples/data/least_squares_4.json", ROOT)),
      `${app}/examples/data/least_squares_4.json`,
    );
    const mountPath = ofKind(objects, "Job").spec.template.spec.containers[0].volumeMounts
      .find((mount: Json) => mount.name === "plan").mountPath;
    const mounted = `${app}/${mountPath.slice("/app/".length)}`;
    await Deno.writeTextFile(mounted, JSON.stringify(plan));
    const loaded = await gossamerIn({ cwd: "/" }, "plan", mounted, "--json");
    assert.equal(loaded.code, 0, loaded.stderr);
  } finally {
    await Deno.remove(app, { recursive: true });
  }

  // From another folder (a new one, which cannot hold this checkout wherever it lies), the data
  // file lies outside it: said on stderr, the YAML unchanged.
  const other = await Deno.makeTempDir({ prefix: "gossamer_k8s_elsewhere_" });
  const elsewhere = await gossamerIn(
    { cwd: other },
    "k8s",
    fromFileUrl(new URL("examples/least_squares.ts", ROOT)),
    "--image",
    "i",
    "--workers",
    "4",
  ).finally(() => Deno.remove(other, { recursive: true }));
  assert.equal(elsewhere.code, 0, elsewhere.stderr);
  assert.match(
    elsewhere.stderr,
    /Note: the plan names (\/|\.\.\/).*least_squares_4\.json, outside this folder/,
  );
  assert.equal(objectsOf(elsewhere.stdout).length, 4);
});

Deno.test("k8s refuses names Kubernetes would refuse, and bad values, printing nothing", async (t) => {
  const base = ["k8s", "examples/quickstart.ts", "--image", "i", "--workers", "8"];
  const cases: [string, string[], RegExp][] = [
    [
      "uppercase and '_'",
      ["--name", "MNIST_run"],
      /Invalid --name "MNIST_run": not a DNS-1035 label/,
    ],
    [
      "a leading digit",
      ["--name", "8-workers"],
      /Invalid --name "8-workers": not a DNS-1035 label/,
    ],
    ["a trailing '-'", ["--name", "run-"], /Invalid --name "run-": not a DNS-1035 label/],
    [
      "pod host names over 63 characters",
      ["--name", "a".repeat(62)],
      /Invalid --name "a{62}": pod host names such as a{62}-7 would be longer than 63 characters/,
    ],
    [
      "a namespace with a space",
      ["--namespace", "ml team"],
      /Invalid --namespace "ml team": not a DNS-1123 label/,
    ],
    ["a namespace with a dot", ["--namespace", "ml.team"], /Invalid --namespace "ml\.team"/],
    ["an image with a space", ["--image", "my image"], /Invalid --image "my image"/],
    [
      "local workers that do not divide the workers",
      ["--local-workers", "3"],
      /--local-workers 3 does not divide --workers 8: every pod runs the same number of workers/,
    ],
  ];
  for (const [name, args, message] of cases) {
    await t.step(name, async () => {
      const result = await gossamer(...base, ...args);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, STACK_LINE);
      assert.equal(result.stdout, "");
    });
  }
  await t.step("a port out of range is a usage error", async () => {
    const result = await gossamer(...base, "--port", "70000");
    assert.equal(result.code, 2);
    assert.match(result.stderr, /expected a port number from 1 to 65535/);
  });
  await t.step("workers the plan's data cannot serve", async () => {
    const result = await gossamer(
      "k8s",
      "examples/least_squares.ts",
      "--image",
      "i",
      "--workers",
      "8",
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /has 4 shards but workers is 8/);
    assert.equal(result.stdout, "");
  });
});

Deno.test("k8s --out writes a file only its owner reads, and never replaces one without --force", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_k8s_" });
  try {
    const args = [
      "k8s",
      fromFileUrl(new URL("examples/quickstart.ts", ROOT)),
      "--image",
      "i",
      "--workers",
      "8",
      "--out",
      "run.yaml",
    ];
    const written = await gossamerIn({ cwd: dir }, ...args);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, /Wrote run\.yaml .*kubectl apply -f run\.yaml/);
    assert.equal((await Deno.stat(`${dir}/run.yaml`)).mode! & 0o777, 0o600);
    const first = await Deno.readTextFile(`${dir}/run.yaml`);
    assert.equal(objectsOf(first).length, 4);

    const refused = await gossamerIn({ cwd: dir }, ...args);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /Cannot write "run\.yaml": it already exists \(pass --force to replace it\)/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/run.yaml`), first);

    const forced = await gossamerIn({ cwd: dir }, ...args, "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(await Deno.readTextFile(`${dir}/run.yaml`), first);
    assert.equal((await Deno.stat(`${dir}/run.yaml`)).mode! & 0o777, 0o600);
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["run.yaml"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
