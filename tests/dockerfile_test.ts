/**
 * The Dockerfile is not built here (no container engine in CI), so what can drift from the rest
 * of the repository is checked as text: the Deno version pinned in one place, the command the
 * Kubernetes Job runs, the folder the plan is mounted in, and the files it caches.
 */

import assert from "node:assert/strict";
import { APP_FOLDER, CONTAINER_COMMAND } from "../cli/k8s_manifest.ts";

const ROOT = new URL("../", import.meta.url);
const dockerfile = await Deno.readTextFile(new URL("Dockerfile", ROOT));
const version = (await Deno.readTextFile(new URL(".deno-version", ROOT))).trim();

/** The argument of the one instruction of this name. */
function instruction(name: string): string {
  const found = [...dockerfile.matchAll(new RegExp(`^${name} (.*)$`, "gm"))];
  assert.equal(found.length, 1, `one ${name}`);
  return found[0]![1]!;
}

Deno.test("the Dockerfile's base image is the official Deno image at the pinned version", () => {
  assert.equal(instruction("FROM"), `denoland/deno:${version}`);
});

Deno.test("the Dockerfile's entrypoint is the command the Job's containers run, in its folder", () => {
  assert.deepEqual(JSON.parse(instruction("ENTRYPOINT")), [...CONTAINER_COMMAND]);
  assert.equal(instruction("WORKDIR"), APP_FOLDER);
  assert.match(instruction("COPY"), new RegExp(` \\. ${APP_FOLDER}$`));
});

Deno.test("the Dockerfile caches cli.ts and every worker entry point, all of which exist", async () => {
  const run = /^RUN deno cache ((?:.*\\\n)*.*)$/m.exec(dockerfile);
  assert.ok(run, "a RUN deno cache instruction");
  const files = run[1]!.replace(/\\\n/g, " ").trim().split(/\s+/);
  assert.equal(files[0], "cli.ts");
  for (const file of files) {
    assert.ok((await Deno.stat(new URL(file, ROOT))).isFile, file);
  }
  // Every module started as a Web Worker or a process by URL, which `deno cache cli.ts` would
  // not reach: the runtime's non-test files that construct a Worker name them.
  const entries = new Set<string>();
  for await (const file of walk(new URL("runtime/", ROOT))) {
    if (file.pathname.endsWith("_test.ts")) continue;
    const text = await Deno.readTextFile(file);
    for (const match of text.matchAll(/new Worker\(\s*new URL\("([^"]+)", import\.meta\.url\)/g)) {
      entries.add(new URL(match[1]!, file).href.slice(ROOT.href.length));
    }
  }
  assert.ok(entries.size >= 2, [...entries].join(", "));
  for (const entry of entries) assert.ok(files.includes(entry), `${entry} is cached`);
  assert.ok(files.includes("runtime/worker/process_worker.ts"));
});

/** Every file under a folder, as URLs. */
async function* walk(folder: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(folder)) {
    if (entry.isDirectory) yield* walk(new URL(`${entry.name}/`, folder));
    else if (entry.isFile && entry.name.endsWith(".ts")) yield new URL(entry.name, folder);
  }
}
