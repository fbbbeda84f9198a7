/**
 * `gossamer k8s <pipeline.ts|plan.json> --image IMG --workers N …`: writes the Kubernetes
 * objects that run a plan's workers as an Indexed Job (see `k8s_manifest.ts`), to standard
 * output for `kubectl apply -f -`, or to a file.
 *
 * @module
 */

import { generateSecret } from "../runtime/auth.ts";
import {
  fileStem,
  loadClusterPlan,
  portablePlanJson,
  referencesOutsideHere,
} from "./cluster_plan.ts";
import { CliInputError } from "./errors.ts";
import {
  APP_FOLDER,
  checkK8sName,
  checkK8sNamespace,
  k8sManifest,
  k8sNameFrom,
} from "./k8s_manifest.ts";
import { shellQuote } from "./slurm_script.ts";
import { writeNewFile } from "./write_file.ts";

/** Options of `gossamer k8s`. */
export interface K8sCommandOptions {
  /** The container image, built from the repository's Dockerfile. */
  readonly image: string;
  /** The run's workers; overrides the plan's as `gossamer run --workers` does. */
  readonly workers: number;
  /** Workers per pod, as threads that share memory (default 1: a pod per worker). */
  readonly localWorkers?: number;
  readonly namespace?: string;
  /** The Job's name (default: from the pipeline's file name). */
  readonly name?: string;
  /** The rendezvous port. */
  readonly port: number;
  /**
   * For an elastic plan: how often each failed worker pod is started again to rejoin the run
   * (the Job's `backoffLimitPerIndex`; default {@linkcode DEFAULT_RESTARTS}). Ignored otherwise.
   */
  readonly restarts?: number;
  /** A file to write instead of standard output. */
  readonly out?: string;
  /** Replace `out` if it exists. */
  readonly force?: boolean;
}

/** How often an elastic plan's failed worker pod is started again, unless `--restarts` says. */
export const DEFAULT_RESTARTS = 3;

/** The command line that reproduces these objects, for their header. */
function commandLine(input: string, options: K8sCommandOptions, name: string): string {
  const words = [
    "gossamer k8s",
    shellQuote(input),
    `--image ${options.image}`,
    `--workers ${options.workers}`,
    ...(options.localWorkers === undefined ? [] : [`--local-workers ${options.localWorkers}`]),
    ...(options.namespace === undefined ? [] : [`--namespace ${options.namespace}`]),
    `--name ${name}`,
    `--port ${options.port}`,
    ...(options.restarts === undefined ? [] : [`--restarts ${options.restarts}`]),
  ];
  // A comment line ends at a line break, so none may reach it.
  // deno-lint-ignore no-control-regex
  return `Written by: ${words.join(" ")}`.replace(/[\u0000-\u001f\u007f]/g, "?");
}

/**
 * Runs `gossamer k8s`: checks the names, the image and the port, loads the plan with the
 * workers asked for, and writes the objects, each holding a fresh secret. Nothing is written
 * when a check fails; a file given with `--out` is created readable by its owner only, since it
 * holds the secret, and never replaces one without `force`.
 *
 * @param input A pipeline module or plan JSON file.
 * @param options The command's options.
 */
export async function k8sCommand(input: string, options: K8sCommandOptions): Promise<void> {
  const local = options.localWorkers ?? 1;
  if (options.workers % local !== 0) {
    throw new CliInputError(
      `--local-workers ${local} does not divide --workers ${options.workers}: every pod runs the same number of workers`,
    );
  }
  const pods = options.workers / local;
  const name = options.name ?? k8sNameFrom(fileStem(input), pods);
  const problems = [
    checkK8sName(name, pods),
    options.namespace === undefined ? null : checkK8sNamespace(options.namespace),
    /^[^\s]+$/.test(options.image)
      ? null
      : `Invalid --image ${JSON.stringify(options.image)}: an image reference has no spaces`,
  ].filter((problem) => problem !== null);
  if (problems.length > 0) throw new CliInputError(problems.join("\n"));

  const plan = await loadClusterPlan(input, options.workers);
  const planJson = portablePlanJson(plan);
  for (const reference of referencesOutsideHere(planJson)) {
    console.error(
      `Note: the plan names ${reference}, outside this folder; the pods find the plan's files relative to ${APP_FOLDER}, where the image holds the folder it was built from`,
    );
  }
  const manifest = k8sManifest({
    name,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    image: options.image,
    workers: options.workers,
    ...(local === 1 ? {} : { localWorkers: local }),
    port: options.port,
    planJson,
    secret: generateSecret(),
    generatedBy: commandLine(input, options, name),
    ...(plan.elastic === null || plan.elastic === undefined ? {} : {
      // A worker that may not rejoin would only start a run of its own: no restarts then.
      elastic: { restarts: plan.elastic.rejoin ? options.restarts ?? DEFAULT_RESTARTS : 0 },
    }),
  });
  if (options.out === undefined) {
    await Deno.stdout.write(new TextEncoder().encode(manifest));
    return;
  }
  await writeNewFile(options.out, manifest, {
    mode: 0o600,
    ...(options.force ? { force: true } : {}),
  });
  console.log(
    `Wrote ${options.out} (${
      local === 1 ? `${pods} worker pods` : `${pods} pods of ${local} workers`
    }, Job ${name}; it holds the run's secret, so only you can read it): kubectl apply -f ${options.out}`,
  );
}
