/**
 * `gossamer resume` from the command line: it keeps the run's clock and transport unless told
 * otherwise, and says what it continues with.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { gossamer, STACK_LINE } from "./_cli.ts";

Deno.test("resume keeps a virtual-clock run on the virtual clock, and says so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossamer-cli-resume-" });
  try {
    const run = join(dir, "run");
    const ran = await gossamer(
      "run",
      "examples/least_squares.ts",
      "--steps",
      "10",
      "--transport",
      "memory",
      "--clock",
      "virtual",
      "--checkpoint-every",
      "5",
      "--quiet",
      "--out",
      run,
    );
    assert.equal(ran.code, 0, ran.stderr);
    const resumed = await gossamer("resume", run, "--from", "5", "--out", join(dir, "resumed"));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(
      resumed.stderr,
      /Resuming .*run after 5 steps on the virtual clock \(the run's\) over the memory transport \(the run's\)/,
    );
    const summary = JSON.parse(await Deno.readTextFile(join(dir, "resumed", "summary.json")));
    assert.equal(summary.clock, "virtual");
    assert.equal(summary.transport, "memory");
    // Simulated time went on from the checkpoint's (compute is measured, so not to the bit).
    assert.ok(summary.virtualTimeMs > 0, String(summary.virtualTimeMs));
    const params = (folder: string) => Deno.readTextFile(join(folder, "params.json"));
    assert.equal(await params(join(dir, "resumed")), await params(run));
    // Both can be named; a wrong one is refused with a message, not a trace.
    const wrong = await gossamer(
      "resume",
      run,
      "--from",
      "5",
      "--clock",
      "virtual",
      "--transport",
      "tcp",
      "--out",
      join(dir, "wrong"),
    );
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /the virtual clock runs every worker in one thread/);
    assert.doesNotMatch(wrong.stderr, STACK_LINE);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
