import assert from "node:assert/strict";
import { gossamer, gossamerIn, STACK_LINE } from "./_cli.ts";
import { contribution, expectedSum, firstWrong } from "../runtime/comm/bench/bench_rank.ts";
import type { AllReduceResult, RawTcpResult } from "../runtime/comm/bench/allreduce_bench.ts";

Deno.test("bench allreduce --json: every size, world size and launch, checked, with busbw", async () => {
  const result = await gossamer(
    "bench",
    "allreduce",
    "--sizes",
    "8,4K..8K",
    "--ranks",
    "1,3",
    "--launch",
    "threads,processes",
    "--iterations",
    "2",
    "--json",
  );
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as {
    rawTcp: RawTcpResult[];
    results: AllReduceResult[];
  };
  assert.deepEqual(report.rawTcp.map((raw) => [raw.launch, raw.bytes]), [
    ["threads", 64 * 2 ** 20],
    ["processes", 64 * 2 ** 20],
  ]);
  assert.deepEqual(
    report.results.map((r) => [r.launch, r.ranks, r.bytes, r.path]),
    [
      ["threads", 1, 8, "tcp"],
      ["threads", 1, 4096, "tcp"],
      ["threads", 1, 8192, "tcp"],
      ["threads", 3, 8, "shared memory"],
      ["threads", 3, 4096, "shared memory"],
      ["threads", 3, 8192, "shared memory"],
      ["processes", 1, 8, "tcp"],
      ["processes", 1, 4096, "tcp"],
      ["processes", 1, 8192, "tcp"],
      ["processes", 3, 8, "tcp"],
      ["processes", 3, 4096, "tcp"],
      ["processes", 3, 8192, "tcp"],
    ],
  );
  for (const r of report.results) {
    assert.ok(r.correct, `${r.launch} ${r.ranks} ${r.bytes}: ${r.wrong}`);
    assert.equal(r.floats, r.bytes / 4);
    // nccl-tests: algbw = bytes / time, busbw = algbw · 2(n−1)/n (0 for one rank).
    assert.ok(Math.abs(r.algbw - r.bytes / r.seconds) <= 1e-9 * r.algbw);
    assert.ok(Math.abs(r.busbw - r.algbw * 2 * (r.ranks - 1) / r.ranks) <= 1e-9 * r.algbw);
    // Small sizes get more iterations (256 MiB per size, at most 200).
    assert.equal(r.iterations, 200);
  }
});

Deno.test("bench allreduce --no-shared-memory: thread ranks over TCP, in a table", async () => {
  const result = await gossamer(
    "bench",
    "allreduce",
    "--mib",
    "1",
    "--ranks",
    "2",
    "--launch",
    "threads",
    "--no-shared-memory",
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /raw TCP, one stream between two threads over 127\.0\.0\.1: [\d.]+ GB\/s/,
  );
  assert.match(
    result.stdout,
    /^\| 1M \| 262144 \| 2 \| threads \| tcp \| [\d.]+ \| [\d.]+ \| [\d.]+ \| \d+ \| 0 \|$/m,
  );
});

Deno.test("bench allreduce refuses sizes that are not float32 vectors, without a stack trace", async () => {
  for (
    const [args, message] of [
      [["--sizes", "6"], /--sizes: 6 is not a whole number of float32 values/],
      [["--sizes", "1M..1K"], /--sizes: the range "1M\.\.1K" runs backwards/],
      [["--sizes", "lots"], /--sizes: "lots" is not a size/],
      [["--ranks", "0"], /--ranks: "0" is not a number of ranks/],
      [["--launch", "gpus"], /--launch: "gpus" is not threads or processes/],
      [["--mib", "1", "--sizes", "8"], /Give --mib or --sizes, not both/],
    ] as const
  ) {
    const result = await gossamer("bench", "allreduce", ...args);
    assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  }
});

Deno.test("the benchmark's closed form: contributions sum exactly, and a changed element is named", () => {
  const n = 4;
  const data = new Float32Array(12);
  for (let i = 0; i < data.length; i++) {
    let sum = 0;
    for (let rank = 0; rank < n; rank++) sum += contribution(rank, i);
    data[i] = sum;
  }
  // Rank r gives r + 1 + (i mod 5): 10 + 4·(i mod 5) over four ranks.
  assert.deepEqual([...data.subarray(0, 6)], [10, 14, 18, 22, 26, 10]);
  assert.equal(firstWrong(data, n), null);
  data[7] = expectedSum(n, 7) + 1;
  assert.equal(firstWrong(data, n), "element 7 is 19, expected 18");
});

Deno.test("bench allreduce --gloo without PyTorch says how to get it, after gossamer's results", async () => {
  const result = await gossamerIn(
    { env: { GLOO_PYTHON: "/nonexistent/python3" } },
    "bench",
    "allreduce",
    "--sizes",
    "8",
    "--ranks",
    "2",
    "--launch",
    "threads",
    "--gloo",
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^\| 8 \| 2 \| 2 \| threads \| shared memory \|/m);
  assert.match(
    result.stderr,
    /--gloo: no Python here has PyTorch \(apt-get install -y python3-torch/,
  );
  assert.doesNotMatch(result.stderr, STACK_LINE);
});

const torch = await new Deno.Command("/usr/bin/python3", { args: ["-c", "import torch"] })
  .output().then((output) => output.success, () => false);

Deno.test({
  name: `bench allreduce --gloo measures Gloo the same way, checked${
    torch ? "" : " (ignored: /usr/bin/python3 has no PyTorch)"
  }`,
  ignore: !torch,
  async fn() {
    const result = await gossamerIn(
      { env: { GLOO_PYTHON: "/usr/bin/python3" } },
      "bench",
      "allreduce",
      "--sizes",
      "8,4K",
      "--ranks",
      "2",
      "--launch",
      "processes",
      "--iterations",
      "2",
      "--gloo",
      "--json",
    );
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { gloo: AllReduceResult[] };
    assert.deepEqual(report.gloo.map((r) => [r.bytes, r.ranks, r.path, r.correct]), [
      [8, 2, "gloo", true],
      [4096, 2, "gloo", true],
    ]);
    for (const r of report.gloo) {
      assert.ok(Math.abs(r.busbw - r.algbw) <= 1e-9 * r.algbw, "2 ranks: busbw = algbw");
      assert.equal(r.iterations, 200);
    }
  },
});
