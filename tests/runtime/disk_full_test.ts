/**
 * A disk that fills mid-run (issue 20, item 9): a failed write of the run folder (metrics,
 * checkpoint, parameters, summary) ends the run with a message that says the disk is full and
 * names the file and the folder, what was written stays, the summary says "failed" (a small one
 * when the full one does not fit), and a folder left without a summary and without a writer is
 * shown as "stopped", never "running".
 *
 * The disk fills through the run folder's write seam (`runFolderWrites`): the chosen writes go
 * to `/dev/full`, so the error is the system's own ENOSPC, with no root, mount or quota needed.
 */

import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { run } from "../../mod.ts";
import { LOCK_FILE, runFolderWrites } from "../../runtime/coordinator/run_folder.ts";
import { readRun } from "../../report/run_data.ts";
import { compareRow, compareText } from "../../report/compare_table.ts";
import { listRuns } from "../../report/dashboard.ts";
import { leastSquaresPlans, readMetrics, tempRunFolder } from "./_plans.ts";

const DEV_FULL = "/dev/full";
const ignore = !(await Deno.stat(DEV_FULL).then(() => true, () => false));

/**
 * Sends the run folder's writes for which `full` says so to `/dev/full` (ENOSPC) until the
 * returned function restores the real writes.
 */
function fillDisk(full: (path: string, bytes: Uint8Array) => boolean): () => void {
  const { writeFile, append } = runFolderWrites;
  runFolderWrites.writeFile = (path, bytes) =>
    full(path, bytes) ? Deno.writeFile(DEV_FULL, bytes) : writeFile(path, bytes);
  runFolderWrites.append = (path, file, bytes) => {
    if (!full(path, bytes)) return append(path, file, bytes);
    using device = Deno.openSync(DEV_FULL, { write: true });
    return device.writeSync(bytes);
  };
  return () => Object.assign(runFolderWrites, { writeFile, append });
}

/** A path as a regular expression that matches it literally. */
function literal(path: string): string {
  return path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Awaits a run that must fail with a message matching `pattern`. */
async function failsWith(running: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(running, (error: Error) => {
    assert.match(error.message, pattern);
    return true;
  });
}

/** Whether a path exists. */
async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** A run folder's summary. */
async function summaryOf(folder: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(join(folder, "summary.json")));
}

Deno.test({
  name: "metrics.jsonl fills the disk during training over TCP: the run says so, not a lost worker",
  ignore,
  fn: async () => {
    const parent = await tempRunFolder();
    const folder = join(parent, "run");
    let appends = 0;
    const restore = fillDisk((path) => basename(path) === "metrics.jsonl" && ++appends > 5);
    try {
      await failsWith(
        run(leastSquaresPlans(60).allReduce!, { transport: "tcp", launch: "threads", out: folder }),
        new RegExp(
          `^The disk is full: cannot write metrics\\.jsonl in ${
            literal(folder)
          } \\(No space left on device`,
        ),
      );
    } finally {
      restore();
    }
    try {
      const summary = await summaryOf(folder);
      assert.equal(summary.status, "failed");
      assert.match(String(summary.error), /^The disk is full: cannot write metrics\.jsonl/);
      // What was written before the disk filled stays, and the folder reads as a failed run.
      assert.ok((await readMetrics(folder)).length > 0);
      assert.equal((await readRun(folder)).status, "failed");
      assert.equal(await exists(join(folder, LOCK_FILE)), false);
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});

Deno.test({
  name: "a disk with no room even for the summary: compare and serve show the run as stopped",
  ignore,
  fn: async () => {
    const parent = await tempRunFolder();
    const folder = join(parent, "run");
    let appends = 0;
    let full = false;
    const restore = fillDisk((path) =>
      full ||= basename(path) === "metrics.jsonl" && ++appends > 3
    );
    try {
      await failsWith(
        run(leastSquaresPlans(40).allReduce!, { transport: "memory", out: folder }),
        new RegExp(
          `^The disk is full: cannot write metrics\\.jsonl in ${
            literal(folder)
          } .*\\nNo summary\\.json could be written either: compare and serve show the run as stopped$`,
        ),
      );
    } finally {
      restore();
    }
    try {
      assert.equal(await exists(join(folder, "summary.json")), false);
      assert.equal(await exists(join(folder, LOCK_FILE)), false);
      const data = await readRun(folder);
      assert.equal(data.status, "stopped");
      assert.match(compareText([compareRow(data)]), /\/40\s+stopped\s/);
      assert.deepEqual((await listRuns(parent)).map((entry) => entry.status), ["stopped"]);
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});

Deno.test({
  name: "a checkpoint fills the disk: the run stops naming it, with a small summary",
  ignore,
  fn: async () => {
    const parent = await tempRunFolder();
    const folder = join(parent, "run");
    // The checkpoint after 4 steps does not fit, nor a summary of more than 300 bytes.
    const restore = fillDisk((path, bytes) =>
      basename(path).startsWith("step-00000004.") ||
      (basename(path).startsWith("summary.json") && bytes.length > 300)
    );
    try {
      await failsWith(
        run(leastSquaresPlans(40).allReduce!, {
          transport: "memory",
          out: folder,
          checkpointEvery: 4,
        }),
        new RegExp(
          `^The disk is full: cannot write step-00000004\\.safetensors in ${
            literal(join(folder, "checkpoints"))
          } \\(No space left on device`,
        ),
      );
    } finally {
      restore();
    }
    try {
      const summary = await summaryOf(folder);
      assert.deepEqual(Object.keys(summary), ["status", "error", "steps", "workers", "algorithm"]);
      assert.equal(summary.status, "failed");
      assert.match(String(summary.error), /cannot write step-00000004\.safetensors/);
      const data = await readRun(folder);
      assert.equal(data.status, "failed");
      assert.match(compareText([compareRow(data)]), /\s(\d+\/)?40\s+failed\s/);
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});

Deno.test({
  name: "params.json fills the disk at the end: the run fails naming it",
  ignore,
  fn: async () => {
    const parent = await tempRunFolder();
    const folder = join(parent, "run");
    const restore = fillDisk((path) => basename(path).startsWith("params.json"));
    try {
      await failsWith(
        run(leastSquaresPlans(10).allReduce!, { transport: "memory", out: folder }),
        new RegExp(`^The disk is full: cannot write params\\.json in ${literal(folder)} `),
      );
    } finally {
      restore();
    }
    try {
      const summary = await summaryOf(folder);
      assert.equal(summary.status, "failed");
      assert.match(String(summary.error), /^The disk is full: cannot write params\.json/);
      assert.equal(await exists(join(folder, "params.json")), false);
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});
