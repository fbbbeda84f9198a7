/**
 * Issue 20, item 9: a timeout of 2³¹ ms or more overflows a timer, which then fires after 1 ms,
 * so `--peer-timeout 2147483648` (a user asking for "never") failed every run. Every timeout
 * flag and option is bounded in one place (`runtime/timeouts.ts`): out-of-range values are
 * refused with a message naming the flag, and the largest allowed value runs normally.
 *
 * @module
 */

import assert from "node:assert/strict";
import { gossamer, STACK_LINE } from "../_cli.ts";
import { run, RunError } from "../../mod.ts";
import { runWorker, WorkerError } from "../../runtime/mod.ts";
import { MAX_TIMEOUT_MS } from "../../runtime/timeouts.ts";
import { leastSquaresPipeline } from "../runtime/_plans.ts";
import { allReduce } from "../../mod.ts";

const TOO_LONG = String(2 ** 31);

Deno.test("timeouts: a timeout flag of 2^31 ms or more, negative or fractional is refused, naming the flag", async () => {
  const cases: [string, string[]][] = [
    ["--peer-timeout", ["run", "examples/least_squares.ts", "--peer-timeout", TOO_LONG]],
    ["--handshake-timeout", ["run", "examples/least_squares.ts", "--handshake-timeout", TOO_LONG]],
    ["--silence-timeout", ["run", "examples/least_squares.ts", "--silence-timeout", "1e12"]],
    ["--peer-timeout", ["run", "examples/least_squares.ts", "--peer-timeout=-5"]],
    ["--rendezvous-timeout", [
      "worker",
      "--plan",
      "examples/least_squares.ts",
      "--rank",
      "0",
      "--world",
      "1",
      "--rendezvous-timeout",
      "99999999999",
    ]],
    ["--handshake-timeout", [
      "worker",
      "--plan",
      "examples/least_squares.ts",
      "--handshake-timeout",
      "1.5",
    ]],
  ];
  const folder = await Deno.makeTempDir();
  try {
    for (const [flag, args] of cases) {
      const result = await gossamer(
        ...args,
        ...(args[0] === "run" ? ["--out", `${folder}/r`] : []),
      );
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.ok(result.stderr.includes(flag), result.stderr);
      assert.ok(result.stderr.includes(String(MAX_TIMEOUT_MS)), result.stderr);
      assert.doesNotMatch(result.stderr, STACK_LINE);
    }
    // Refused before anything was written.
    assert.deepEqual([...Deno.readDirSync(folder)], []);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("timeouts: the largest timeout a timer can wait, 2^31 - 1 ms, runs to completion", async () => {
  const folder = await Deno.makeTempDir();
  try {
    const result = await gossamer(
      "run",
      "examples/least_squares.ts",
      "--steps",
      "10",
      "--quiet",
      "--out",
      `${folder}/run`,
      "--peer-timeout",
      String(MAX_TIMEOUT_MS),
      "--handshake-timeout",
      String(MAX_TIMEOUT_MS),
      "--silence-timeout",
      String(MAX_TIMEOUT_MS),
    );
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(await Deno.readTextFile(`${folder}/run/summary.json`));
    assert.equal(summary.status, "completed");
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("timeouts: run() and runWorker() refuse out-of-range timeouts, naming the option", async () => {
  const plan = leastSquaresPipeline(10).base(allReduce()).compile();
  const folder = await Deno.makeTempDir();
  try {
    for (
      const [name, value] of [
        ["peerTimeoutMs", 2 ** 31],
        ["handshakeTimeoutMs", Infinity],
        ["silenceTimeoutMs", NaN],
        ["peerTimeoutMs", 0],
        ["handshakeTimeoutMs", 2.5],
      ] as const
    ) {
      await assert.rejects(
        () => run(plan, { out: `${folder}/run`, [name]: value }),
        (error: Error) =>
          error instanceof RunError && error.message.includes(name) &&
          error.message.includes(String(value)),
      );
    }
    assert.deepEqual([...Deno.readDirSync(folder)], []);
    await assert.rejects(
      () =>
        runWorker({
          plan,
          rank: 0,
          world: 4,
          rendezvous: "127.0.0.1:9",
          backend: "cpu",
          rendezvousTimeoutMs: 2 ** 40,
        }),
      (error: Error) => error instanceof WorkerError && /rendezvousTimeoutMs/.test(error.message),
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
