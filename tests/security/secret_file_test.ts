/**
 * Issue 20, item 9: with `--launch none` and no secret given, the coordinator writes the secret
 * it generated to `<out>/secret` for the workers started by hand. The run folder is what users
 * share and copy, so the file must not outlive the run: it is removed however the run ends
 * (completed, failed, stopped by a signal).
 *
 * @module
 */

import assert from "node:assert/strict";
import { freePort, reap, startWith } from "../runtime/_processes.ts";

/** The environment without any secret, so the coordinator generates one. */
const NO_SECRET = { GOSSAMER_SECRET: "", GOSSAMER_SECRET_FILE: "" };

/** Waits (at most 30 s) for the coordinator to write its secret file. */
async function secretWritten(path: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    try {
      if ((await Deno.readTextFile(path)).trim().length > 0) return;
    } catch { /* not yet */ }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${path} was not written within 30 s`);
}

/** Whether a file exists. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Starts a coordinator for external workers whose secret the coordinator generates. */
function coordinator(out: string, rendezvous: string, ...args: string[]) {
  return startWith(
    NO_SECRET,
    "run",
    "examples/least_squares.ts",
    "--out",
    out,
    "--launch",
    "none",
    "--rendezvous",
    rendezvous,
    "--quiet",
    ...args,
  );
}

Deno.test("secret file: a completed --launch none run leaves no secret in its run folder", async () => {
  const folder = await Deno.makeTempDir();
  const out = `${folder}/run`;
  const rendezvous = `127.0.0.1:${freePort()}`;
  const coord = coordinator(out, rendezvous);
  const workers: ReturnType<typeof startWith>[] = [];
  try {
    await secretWritten(`${out}/secret`);
    // As docs/runtime.md shows: each worker reads the secret from the file the coordinator named.
    for (const rank of [0, 1, 2, 3]) {
      workers.push(startWith(
        { ...NO_SECRET, GOSSAMER_SECRET_FILE: `${out}/secret` },
        "worker",
        "--plan",
        "examples/least_squares.ts",
        "--rank",
        String(rank),
        "--world",
        "4",
        "--rendezvous",
        rendezvous,
      ));
    }
    const result = await coord.output;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /secret/);
    for (const worker of workers) assert.equal((await worker.output).code, 0);
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    assert.equal(summary.status, "completed");
    assert.equal(await exists(`${out}/secret`), false);
  } finally {
    await reap(coord);
    for (const worker of workers) await reap(worker);
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("secret file: a failed --launch none run leaves no secret in its run folder", async () => {
  const folder = await Deno.makeTempDir();
  const out = `${folder}/run`;
  // No worker ever joins: the silence timeout fails the run.
  const coord = coordinator(out, `127.0.0.1:${freePort()}`, "--silence-timeout", "1000");
  try {
    await secretWritten(`${out}/secret`);
    const result = await coord.output;
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /registered within/);
    assert.equal(await exists(`${out}/secret`), false);
  } finally {
    await reap(coord);
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("secret file: a --launch none run stopped by SIGTERM leaves no secret in its run folder", async () => {
  const folder = await Deno.makeTempDir();
  const out = `${folder}/run`;
  const coord = coordinator(out, `127.0.0.1:${freePort()}`);
  try {
    await secretWritten(`${out}/secret`);
    coord.child.kill("SIGTERM");
    const result = await coord.output;
    assert.equal(result.code, 143, result.stderr);
    assert.equal(await exists(`${out}/secret`), false);
  } finally {
    await reap(coord);
    await Deno.remove(folder, { recursive: true });
  }
});
