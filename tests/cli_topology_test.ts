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

Deno.test("topology --json prints a preset of the whole period, which loads back", async () => {
  const result = await gossamer("topology", "onePeerExponential", "-n", "8", "--json");
  assert.equal(result.code, 0, result.stderr);
  const preset = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(preset), ["name", "description", "weights"]);
  assert.match(preset.description, /time-varying, period 3 steps/);
  // log2(8) = 3 matrices; at step 1 rank 0 takes from rank 0 − 2^1 = 6 (mod 8).
  assert.equal(preset.weights.length, 3);
  assert.equal(preset.weights[1][0][6], 0.5);
  assert.equal(preset.weights[1][0][0], 0.5);
  const dir = await Deno.makeTempDir({ prefix: "gossamer_preset_" });
  try {
    await Deno.writeTextFile(`${dir}/one_peer8.json`, result.stdout);
    // The preset fixes its size: no -n. Printed again, it is the same preset.
    const again = await gossamer("topology", `${dir}/one_peer8.json`, "--json");
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).weights, preset.weights);
    const shown = await gossamer("topology", `${dir}/one_peer8.json`, "--step", "4");
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /on 8 workers, step 4/);
    assert.match(shown.stdout, /period\s+3 steps/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("topology takes a preset by URL (http on this machine), and refuses plain http elsewhere", async () => {
  const preset = JSON.stringify({ name: "pair", weights: [[0.5, 0.5], [0.5, 0.5]] });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) =>
      new URL(request.url).pathname === "/pair.json"
        ? new Response(preset, { headers: { "content-type": "application/json" } })
        : new Response("no", { status: 404 }),
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const result = await gossamer("topology", `${base}/pair.json`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /custom pair on 2 workers/);
    const missing = await gossamer("topology", `${base}/gone.json`);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /gone\.json": the server answered 404/);
    assert.doesNotMatch(missing.stderr, STACK_LINE);
    const remote = await gossamer("topology", "http://example.com/pair.json");
    assert.equal(remote.code, 1);
    assert.match(remote.stderr, /plain http: is accepted only from this machine/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("topology torus shape and a preset file, whose size is its own", async () => {
  const torus = await gossamer(
    "topology",
    "torus",
    "-n",
    "16",
    "--rows",
    "4",
    "--cols",
    "4",
  );
  assert.equal(torus.code, 0, torus.stderr);
  // A 4×4 torus: (2/5)(1 − cos(2π/4)) = 0.4.
  assert.match(torus.stdout, /spectral gap\s+0\.4000/);
  const preset = await gossamer("topology", "examples/presets/two_cliques.json");
  assert.equal(preset.code, 0, preset.stderr);
  assert.match(preset.stdout, /custom two-cliques on 6 workers/);
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
    ["missing --workers", ["ring"], 1, /"ring" needs --workers \(-n\): only a preset fixes/],
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
