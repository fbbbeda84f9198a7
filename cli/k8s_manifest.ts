/**
 * The Kubernetes objects `gossamer k8s` writes, as one multi-document YAML for
 * `kubectl apply -f -`: the plan in a ConfigMap, the run's secret in a Secret, a headless Service
 * that gives every worker pod a stable DNS name, and an Indexed Job with one pod per worker.
 *
 * Each pod is `gossamer worker` with no rank flags: the Job's completion index
 * (`JOB_COMPLETION_INDEX`, set by Kubernetes) is its rank, and `GOSSAMER_WORLD` and
 * `GOSSAMER_RENDEZVOUS` (pod 0, where the coordinator runs, through the Service) come from the
 * pod's environment.
 *
 * @module
 */

import { Document, isNode, isScalar } from "../deps/yaml.ts";

/**
 * The container's command: the Dockerfile's `ENTRYPOINT`, repeated so that the Job runs the same
 * thing on an image whose entrypoint differs. A test keeps the two equal.
 */
export const CONTAINER_COMMAND = ["deno", "run", "-A", "/app/cli.ts"] as const;

/** Where the image holds the repository (the Dockerfile's `WORKDIR`). */
export const APP_FOLDER = "/app";

/** The user the official Deno image runs as (`USER deno` in the Dockerfile): uid and gid 1993. */
const DENO_GROUP = 1993;

/** Where the Secret's volume is mounted; its one key is the file name. */
const SECRET_FOLDER = "/etc/gossamer";
const SECRET_KEY = "secret";

/** Where the run folder's volume is mounted. */
const RUNS_FOLDER = "/runs";

/** What the generated objects need; every value already checked. */
export interface K8sManifestOptions {
  /** Names the Job, the Service (so the pods' host names), and prefixes the ConfigMap and Secret. */
  readonly name: string;
  readonly namespace?: string;
  readonly image: string;
  /** The plan's workers. */
  readonly workers: number;
  /**
   * Workers each pod runs as threads that share memory, on as many CPUs (default 1: a pod per
   * worker); the Job has `workers / localWorkers` pods.
   */
  readonly localWorkers?: number;
  /** The rendezvous port, where pod 0's coordinator listens. */
  readonly port: number;
  /** The plan's JSON text, as `gossamer plan --json` prints it. */
  readonly planJson: string;
  /** The run's secret. */
  readonly secret: string;
  /** The command line that generated the objects, recorded in the header. */
  readonly generatedBy: string;
  /**
   * For an elastic plan: how often a failed worker pod is started again (it rejoins the run in
   * progress when the plan lets workers rejoin). Absent for other plans, whose Job is unchanged.
   */
  readonly elastic?: { readonly restarts: number };
}

/**
 * The exit code of pod 0's container when its worker fails in an elastic Job: pod 0 hosts the
 * coordinator, so a restart could not rejoin, and the Job's pod failure policy fails the Job at
 * once on this code (a policy rule cannot name an index, an exit code it can).
 */
export const COORDINATOR_FAILED_EXIT = 86;

/**
 * The container's command for an elastic Job: a shell that runs the worker (its words follow as
 * arguments), passes a TERM or INT on to it, and turns pod 0's failure into
 * {@linkcode COORDINATOR_FAILED_EXIT}.
 */
export const ELASTIC_WRAPPER = [
  `trap 'kill -TERM "$child" 2>/dev/null' TERM INT`,
  `"$0" "$@" &`,
  "child=$!",
  // wait returns early when a trapped signal arrives: wait again until the worker has exited.
  `while :; do wait "$child"; code=$?; kill -0 "$child" 2>/dev/null || break; done`,
  `if [ "$code" -ne 0 ] && [ "\${JOB_COMPLETION_INDEX:-}" = 0 ]; then exit ${COORDINATOR_FAILED_EXIT}; fi`,
  `exit "$code"`,
].join("\n");

/**
 * The Job's spec fields that let an elastic plan's workers restart: each index retried
 * `restarts` times (`backoffLimitPerIndex`, which needs `restartPolicy: Never`); pod 0's failure
 * fails the Job at once and a disruption (preemption, eviction, drain) is not counted
 * (`podFailurePolicy`); and the Job succeeds when pod 0, the coordinator, succeeds, even if a lost
 * index never came back (`successPolicy`). Needs Kubernetes 1.31 or later (successPolicy beta,
 * on by default; all three GA in 1.33).
 */
function elasticJobFields(restarts: number): Record<string, unknown> {
  return {
    backoffLimitPerIndex: restarts,
    podFailurePolicy: {
      rules: [
        {
          action: "FailJob",
          onExitCodes: {
            containerName: "worker",
            operator: "In",
            values: [COORDINATOR_FAILED_EXIT],
          },
        },
        { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] },
      ],
    },
    successPolicy: { rules: [{ succeededIndexes: "0" }] },
  };
}

/** A Kubernetes object, as plain data. */
export type K8sObject = Record<string, unknown> & {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
};

/** A DNS-1035 label: what a Service's name must be (it names the pods' subdomain too). */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label: what a namespace's name must be. */
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The longest DNS label, and so the longest pod host name. */
const MAX_LABEL = 63;

/**
 * Checks a name for the Job and its Service. The Service's name must be a DNS-1035 label, and
 * each pod's host name, `<name>-<index>`, a label of at most 63 characters.
 *
 * @param name The name.
 * @param workers The number of pods, which sets the longest index.
 * @returns An error message, or `null` when the name is fine.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkK8sName } from "./k8s_manifest.ts";
 * assert.equal(checkK8sName("mnist-8", 8), null);
 * assert.match(checkK8sName("MNIST_8", 8) ?? "", /not a DNS-1035 label/);
 * ```
 */
export function checkK8sName(name: string, workers: number): string | null {
  if (!DNS_1035_LABEL.test(name)) {
    return `Invalid --name ${
      JSON.stringify(name)
    }: not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter and ending with a letter or digit), which a Service's name must be`;
  }
  const longest = `${name}-${workers - 1}`;
  if (longest.length > MAX_LABEL) {
    return `Invalid --name ${
      JSON.stringify(name)
    }: pod host names such as ${longest} would be longer than ${MAX_LABEL} characters`;
  }
  return null;
}

/**
 * Checks a namespace name (a DNS-1123 label).
 *
 * @param namespace The namespace.
 * @returns An error message, or `null` when the name is fine.
 */
export function checkK8sNamespace(namespace: string): string | null {
  return DNS_1123_LABEL.test(namespace) && namespace.length <= MAX_LABEL
    ? null
    : `Invalid --namespace ${
      JSON.stringify(namespace)
    }: not a DNS-1123 label (at most ${MAX_LABEL} lowercase letters, digits and '-', starting and ending with a letter or digit)`;
}

/**
 * A valid name made from a pipeline's file name: lowercase, other characters as `-`, a letter
 * first, short enough for every pod's host name.
 *
 * @param stem The pipeline's file name without extension.
 * @param workers The number of pods.
 * @returns A name that {@linkcode checkK8sName} accepts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { k8sNameFrom } from "./k8s_manifest.ts";
 * assert.equal(k8sNameFrom("all_reduce_mnist", 8), "all-reduce-mnist");
 * assert.equal(k8sNameFrom("3-layers", 8), "gossamer-3-layers");
 * ```
 */
export function k8sNameFrom(stem: string, workers: number): string {
  let name = stem.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  if (!/^[a-z]/.test(name)) name = name === "" ? "gossamer" : `gossamer-${name}`;
  const room = MAX_LABEL - `-${workers - 1}`.length;
  return name.slice(0, room).replace(/-+$/, "");
}

/** The labels every object carries; the Service selects the Job's pods by them. */
function labelsOf(name: string): Record<string, string> {
  return { "app.kubernetes.io/name": "gossamer", "app.kubernetes.io/instance": name };
}

/** The host and port every worker reaches the coordinator at: pod 0, through the Service. */
export function rendezvousOf(name: string, port: number): string {
  return `${name}-0.${name}:${port}`;
}

/**
 * The objects, in the order `kubectl apply` should create them (what the Job mounts first).
 *
 * @param options The run.
 * @returns ConfigMap, Secret, Service and Job.
 */
export function k8sObjects(options: K8sManifestOptions): K8sObject[] {
  const { name, port } = options;
  const local = options.localWorkers ?? 1;
  const pods = options.workers / local;
  const labels = labelsOf(name);
  const metadata = (objectName: string) => ({
    name: objectName,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    labels,
  });
  // Mounted inside /app, where the image holds the folder the plan's file references are
  // relative to (a plan's files are found relative to the plan file).
  const planFile = `${APP_FOLDER}/${name}.plan.json`;
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: metadata(`${name}-plan`),
      data: { "plan.json": options.planJson },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: metadata(`${name}-secret`),
      type: "Opaque",
      stringData: { [SECRET_KEY]: options.secret },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: metadata(name),
      spec: {
        clusterIP: "None",
        // Pods resolve each other as soon as they run: workers have no readiness probe, and
        // the rendezvous must be reachable before any pod would count as ready.
        publishNotReadyAddresses: true,
        selector: labels,
        ports: [{ name: "rendezvous", port, targetPort: port }],
      },
    },
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: metadata(name),
      spec: {
        completionMode: "Indexed",
        completions: pods,
        parallelism: pods,
        ...(options.elastic === undefined
          ? { backoffLimit: 0 }
          : elasticJobFields(options.elastic.restarts)),
        template: {
          metadata: { labels },
          spec: {
            subdomain: name,
            restartPolicy: "Never",
            // The image runs as the deno user; the Secret's files are readable by this group.
            securityContext: { fsGroup: DENO_GROUP },
            containers: [{
              name: "worker",
              image: options.image,
              command: options.elastic === undefined
                ? [...CONTAINER_COMMAND]
                : ["/bin/sh", "-c", ELASTIC_WRAPPER, ...CONTAINER_COMMAND],
              args: [
                "worker",
                "--plan",
                planFile,
                "--out",
                `${RUNS_FOLDER}/${name}`,
                "--host",
                "0.0.0.0",
                ...(local === 1 ? [] : ["--local-workers", String(local)]),
              ],
              workingDir: APP_FOLDER,
              env: [
                { name: "GOSSAMER_WORLD", value: String(pods) },
                { name: "GOSSAMER_RENDEZVOUS", value: rendezvousOf(name, port) },
                { name: "GOSSAMER_SECRET_FILE", value: `${SECRET_FOLDER}/${SECRET_KEY}` },
              ],
              ports: [{ name: "rendezvous", containerPort: port }],
              // A CPU for each thread worker.
              ...(local === 1 ? {} : { resources: { requests: { cpu: String(local) } } }),
              volumeMounts: [
                { name: "plan", mountPath: planFile, subPath: "plan.json", readOnly: true },
                { name: "secret", mountPath: SECRET_FOLDER, readOnly: true },
                { name: "runs", mountPath: RUNS_FOLDER },
              ],
            }],
            volumes: [
              { name: "plan", configMap: { name: `${name}-plan` } },
              { name: "secret", secret: { secretName: `${name}-secret`, defaultMode: 0o440 } },
              { name: "runs", emptyDir: {} },
            ],
          },
        },
      },
    },
  ];
}

/** Attaches a comment above (or, for a scalar, after) the node at `path` of a document. */
function comment(document: Document, path: readonly (string | number)[], text: string): void {
  const node = document.getIn(path, true);
  if (!isNode(node)) throw new Error(`no node at ${path.join(".")}`);
  const lines = text.split("\n").map((line) => ` ${line}`).join("\n");
  if (isScalar(node)) node.comment = lines;
  else node.commentBefore = lines;
}

/**
 * Renders the objects as a multi-document YAML, commented where a reader would ask why.
 *
 * @param options The run.
 * @returns The YAML text.
 */
export function k8sManifest(options: K8sManifestOptions): string {
  // Each object spelled out in full: no YAML anchors for the labels they share.
  const documents = k8sObjects(options).map((object) =>
    new Document(object, { aliasDuplicateObjects: false })
  );
  const [configMap, secret, , job] = documents as [Document, Document, Document, Document];
  configMap.commentBefore = [
    ` ${options.generatedBy}`,
    ` ${options.workers} gossamer workers: an Indexed Job, ${
      (options.localWorkers ?? 1) === 1
        ? "one pod per worker"
        : `${
          options.workers / options.localWorkers!
        } pods of ${options.localWorkers} thread workers`
    }, pod 0 the`,
    ` coordinator at ${rendezvousOf(options.name, options.port)}. Apply with`,
    "   kubectl apply -f <this file>   (or pipe it into kubectl apply -f -)",
    " and remove the run's objects with kubectl delete -f on the same file.",
  ].join("\n");
  secret.commentBefore = " The run's secret: every connection between workers proves it knows it.";
  const pod = ["spec", "template", "spec"];
  if (options.elastic === undefined) {
    comment(
      job,
      ["spec", "backoffLimit"],
      "a lost worker fails the run; a replacement pod could not rejoin it",
    );
  } else {
    comment(
      job,
      ["spec", "backoffLimitPerIndex"],
      "a failed worker pod starts again and rejoins the run (Kubernetes 1.29+)",
    );
    comment(
      job,
      ["spec", "podFailurePolicy"],
      [
        `Pod 0 hosts the coordinator: its failure (exit ${COORDINATOR_FAILED_EXIT} from the wrapper) ends the Job at once.`,
        "A pod disrupted (preempted, evicted) restarts without counting against its retries.",
      ].join("\n"),
    );
    comment(
      job,
      ["spec", "successPolicy"],
      "The run is done when pod 0 is, even if a lost worker never came back (Kubernetes 1.31+).",
    );
  }
  comment(job, [...pod, "volumes", 1, "secret", "defaultMode"], "0440: read-only, owner and group");
  comment(
    job,
    [...pod, "volumes", 2],
    [
      `The run folder: pod 0 writes ${RUNS_FOLDER}/${options.name} here. An emptyDir goes with the`,
      "pod; to keep the run, use a PersistentVolumeClaim instead:",
      "  - name: runs",
      "    persistentVolumeClaim: { claimName: <your claim> }",
    ].join("\n"),
  );
  return documents.map((document) => document.toString({ lineWidth: 0 })).join("---\n");
}
