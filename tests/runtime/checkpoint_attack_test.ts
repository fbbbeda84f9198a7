/**
 * Attacks on a run folder's checkpoints (issue 20, item 4): a flipped byte in tensor data, a
 * lying step, a crafted number of workers. Each is refused before anything is written or
 * allocated, with a message naming the file and the newest usable checkpoint; `fallback` then
 * continues from that one exactly as an explicit `from` does.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "../../mod.ts";
import { resume } from "../../runtime/coordinator/resume.ts";
import { checkpointDigest, checkpointPath } from "../../runtime/coordinator/checkpoints.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsHeader,
} from "../../runtime/safetensors.ts";
import { leastSquaresPlans, tempRunFolder } from "./_plans.ts";

/** Every file under a folder, by path, with its bytes. */
async function snapshot(folder: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for await (const entry of Deno.readDir(folder)) {
    const path = join(folder, entry.name);
    if (entry.isDirectory) {
      for (const [name, bytes] of await snapshot(path)) files.set(name, bytes);
    } else files.set(path, await Deno.readFile(path));
  }
  return files;
}

/** A finished 12-step run with checkpoints after 4, 8 and 12 steps, in a temporary folder. */
async function withCheckpointedRun(body: (folder: string, parent: string) => Promise<void>) {
  const parent = await tempRunFolder();
  try {
    const folder = join(parent, "run");
    await run(leastSquaresPlans(12).adamLocalSgd!, {
      transport: "memory",
      out: folder,
      checkpointEvery: 4,
    });
    await body(folder, parent);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

/** Replaces the first occurrence of `from` in a file's bytes by `to`, of the same length. */
async function replaceInFile(path: string, from: string, to: string): Promise<void> {
  assert.equal(from.length, to.length);
  const bytes = await Deno.readFile(path);
  const text = new TextDecoder("latin1").decode(bytes);
  const at = text.indexOf(from);
  assert.ok(at >= 0, `${from} is in ${path}`);
  bytes.set(new TextEncoder().encode(to), at);
  await Deno.writeFile(path, bytes);
}

/** Asserts that resuming (16 steps in all) is refused with `message`, writing nothing. */
async function assertRefused(folder: string, message: RegExp): Promise<void> {
  const before = await snapshot(folder);
  await assert.rejects(resume(folder, { transport: "memory", steps: 16 }), message);
  assert.deepEqual(await snapshot(folder), before);
}

Deno.test("a flipped byte in a checkpoint's tensor data is refused, naming the newest usable checkpoint", async () => {
  await withCheckpointedRun(async (folder, parent) => {
    const path = checkpointPath(folder, 12);
    const bytes = await Deno.readFile(path);
    bytes[bytes.length - 3]! ^= 0x10;
    await Deno.writeFile(path, bytes);
    await assertRefused(
      folder,
      new RegExp(
        `The newest checkpoint \\(after 12 steps\\) cannot be used: .*step-00000012\\.safetensors is damaged: its digest does not match its content.*\\nThe newest usable one is after 8 steps$`,
      ),
    );
    // Asked to, it continues from the newest usable one, exactly as --from 8 does.
    const explicit = await resume(folder, {
      transport: "memory",
      steps: 16,
      from: 8,
      out: join(parent, "from8"),
    });
    const fallback = await resume(folder, { transport: "memory", steps: 16, fallback: true });
    assert.equal(fallback.summary.status, "completed");
    assert.deepEqual(fallback.params, explicit.params);
  });
});

Deno.test("a checkpoint whose metadata lies about its step is refused", async () => {
  await withCheckpointedRun(async (folder) => {
    await replaceInFile(checkpointPath(folder, 12), `"step":"12"`, `"step":"99"`);
    await assertRefused(
      folder,
      /step-00000012\.safetensors is damaged: its metadata says step 99, its name step 12/,
    );
    // An edited step in an older file, named by --from, is refused the same way.
    await replaceInFile(checkpointPath(folder, 8), `"step":"8"`, `"step":"4"`);
    await assert.rejects(
      resume(folder, { transport: "memory", steps: 16, from: 8 }),
      /step-00000008\.safetensors is damaged: its metadata says step 4, its name step 8/,
    );
  });
});

Deno.test("a step edited together with the file name is caught by the digest", async () => {
  // A checkpoint renamed and its step edited to match.
  await withCheckpointedRun(async (folder) => {
    await Deno.remove(checkpointPath(folder, 12));
    await Deno.rename(checkpointPath(folder, 8), checkpointPath(folder, 9));
    await replaceInFile(checkpointPath(folder, 9), `"step":"8"`, `"step":"9"`);
    await assertRefused(folder, /step-00000009\.safetensors is damaged: its digest does not match/);
  });
});

Deno.test("crafted metadata with 1e9 workers is refused before anything is allocated", async () => {
  await withCheckpointedRun(async (folder) => {
    const path = checkpointPath(folder, 12);
    const { tensors, metadata } = decodeSafetensors(await Deno.readFile(path));
    const list = [...tensors].map(([name, data]) => ({ name, data }));
    for (const workers of ["1e9", "1000000000"]) {
      const { digest: _digest, ...forged }: Record<string, string> = { ...metadata, workers };
      // The attacker even writes a matching digest: the metadata is still checked against the plan.
      const { header, data } = readSafetensorsHeader(encodeSafetensors(list, forged));
      const digest = await checkpointDigest(header, data);
      await Deno.writeFile(path, encodeSafetensors(list, { ...forged, digest }));
      await assertRefused(
        folder,
        new RegExp(`step-00000012\\.safetensors holds ${workers} workers, the plan has 4`),
      );
    }
  });
});
