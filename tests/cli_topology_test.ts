import assert from "node:assert/strict";
import { gossamer, STACK_LINE } from "./_cli.ts";

Deno.test("topology prints weights and the ring's closed-form spectral gap", async () => {
  const result = await gossamer("topology", "ring", "--workers", "8");
  assert.equal(result.code, 0, result.stderr);
  // (2/3)(1 − cos(2π/8)) = 0.19526…
  assert.match(result.stdout, /spectral gap\s+0\.1953/);
  assert.match(result.stdout, /directed\s+no/);
  assert.match(result.stdout, /0 ← self:0\.333 1:0\.333 7:0\.333/);
});

Deno.test("topology --json for a time-varying graph at a given step", async () => {
  const result = await gossamer(
    "topology",
    "onePeerExponential",
    "-n",
    "8",
    "--step",
    "1",
    "--json",
  );
  assert.equal(result.code, 0, result.stderr);
  const description = JSON.parse(result.stdout);
  assert.equal(description.period, 3);
  // Step 1 uses 2^1: rank 0 averages with rank 6.
  assert.equal(description.matrix[0][6], 0.5);
  assert.equal(description.matrix[0][0], 0.5);
});

Deno.test("topology torus shape and a preset file", async () => {
  const torus = await gossamer(
    "topology",
    "torus",
    "-n",
    "16",
    "--rows",
    "4",
    "--cols",
    "4",
    "--json",
  );
  assert.equal(torus.code, 0, torus.stderr);
  assert.ok(Math.abs(JSON.parse(torus.stdout).spectralGap - 0.4) < 1e-9);
  const preset = await gossamer("topology", "examples/presets/two_cliques.json", "-n", "6");
  assert.equal(preset.code, 0, preset.stderr);
  assert.match(preset.stdout, /doubly stochastic/);
});

Deno.test("topology --svg writes a drawing, and a bad path keeps what was there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_svg_" });
  try {
    const ok = await gossamer("topology", "exponential", "-n", "8", "--svg", `${dir}/g.svg`);
    assert.equal(ok.code, 0, ok.stderr);
    const svg = await Deno.readTextFile(`${dir}/g.svg`);
    assert.match(svg, /^<svg/);
    assert.equal(svg.match(/<circle/g)?.length, 8);

    const bad = await gossamer("topology", "ring", "-n", "4", "--svg", `${dir}/missing/g.svg`);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Cannot write ".*missing\/g.svg": its folder does not exist/);
    assert.equal(await Deno.readTextFile(`${dir}/g.svg`), svg);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("invalid topology input exits non-zero with a message", async (t) => {
  const cases: [string, string[], number, RegExp][] = [
    ["size mismatch", ["torus", "-n", "8", "--rows", "3", "--cols", "3"], 1, /9 nodes/],
    ["unknown name", ["hypercube", "-n", "8"], 1, /Unknown topology "hypercube"/],
    ["preset of another size", ["examples/presets/two_cliques.json", "-n", "8"], 1, /6/],
    ["missing preset", ["nope.json", "-n", "4"], 1, /nope\.json/],
    ["missing --workers", ["ring"], 2, /required option '-n, --workers <n>' not specified/],
    [
      "zero workers",
      ["ring", "-n", "0"],
      2,
      /expected a whole number of at least 1, written in digits/,
    ],
    ["hub out of range", ["star", "-n", "4", "--hub", "9"], 1, /hub/],
  ];
  for (const [name, args, code, message] of cases) {
    await t.step(name, async () => {
      const result = await gossamer("topology", ...args);
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, STACK_LINE);
    });
  }
});
