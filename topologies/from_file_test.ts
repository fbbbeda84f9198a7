import assert from "node:assert/strict";
import { fromFile, mixingMatrix, period, TopologyFileError, topologyProblems } from "./mod.ts";
import { tempDir } from "./_test_helpers.ts";

/** Writes `content` to `<temp>/<name>`, runs `body(path)`, removes the folder. */
function withFile(name: string, content: string, body: (path: string) => void): void {
  const dir = tempDir();
  try {
    const path = `${dir.path}/${name}`;
    Deno.writeTextFileSync(path, content);
    body(path);
  } finally {
    dir.remove();
  }
}

function assertFileError(path: string, detail: string | RegExp): void {
  assert.throws(() => fromFile(path), (error: unknown) => {
    assert.ok(error instanceof TopologyFileError);
    assert.ok(error instanceof Error);
    assert.equal(error.name, "TopologyFileError");
    assert.equal(error.path, path);
    const prefix = `Cannot load topology file "${path}": `;
    assert.ok(error.message.startsWith(prefix), error.message);
    const rest = error.message.slice(prefix.length);
    if (typeof detail === "string") assert.equal(rest, detail);
    else assert.match(rest, detail);
    return true;
  });
}

const AVERAGE = [[0.5, 0.5], [0.5, 0.5]];

Deno.test("fromFile: a missing file names the path", () => {
  const dir = tempDir();
  try {
    assertFileError(`${dir.path}/absent.json`, "file not found");
  } finally {
    dir.remove();
  }
});

Deno.test("fromFile: invalid JSON", () => {
  withFile("broken.json", "{ weights: [[1]] ", (path) => assertFileError(path, /^invalid JSON: /));
});

Deno.test("fromFile: the preset must be an object with weights", () => {
  withFile(
    "list.json",
    "[[1]]",
    (path) => assertFileError(path, 'expected an object with "weights"'),
  );
  withFile("empty.json", "{}", (path) => assertFileError(path, 'missing "weights"'));
  withFile(
    "named.json",
    JSON.stringify({ name: 3, weights: [[1]] }),
    (path) => assertFileError(path, "name must be a string, got 3"),
  );
});

Deno.test("fromFile: non-square and inconsistent matrices", () => {
  withFile(
    "ragged.json",
    JSON.stringify({ weights: [[0.5, 0.5], [0.5, 0.5, 0]] }),
    (path) => assertFileError(path, "weights[1] has 3 entries but weights has 2 rows"),
  );
  withFile(
    "sizes.json",
    JSON.stringify({ weights: [AVERAGE, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]] }),
    (
      path,
    ) => assertFileError(path, "weights[1] is 3×3 but weights[0] is 2×2"),
  );
  withFile(
    "flat.json",
    JSON.stringify({ weights: [0.5, 0.5] }),
    (path) => assertFileError(path, 'weights[0] is "0.5", not a row of numbers'),
  );
  withFile(
    "none.json",
    JSON.stringify({ weights: [] }),
    (path) => assertFileError(path, "weights must be a non-empty matrix or list of matrices"),
  );
});

Deno.test("fromFile: non-numbers and negative weights", () => {
  withFile(
    "text.json",
    JSON.stringify({ weights: [[0.5, "x"], [0.5, 0.5]] }),
    (path) => assertFileError(path, 'weights[0][1] is "x", not a number'),
  );
  withFile(
    "negative.json",
    JSON.stringify({ weights: [[1.5, -0.5], [-0.5, 1.5]] }),
    (path) => assertFileError(path, "weights[0][1] is negative: -0.5"),
  );
  withFile(
    "steps.json",
    JSON.stringify({ weights: [AVERAGE, [[1, null], [0, 1]]] }),
    (path) => assertFileError(path, 'weights[1][0][1] is "null", not a number'),
  );
});

Deno.test("fromFile: name falls back to the file name, source is the path", () => {
  withFile("pair.json", JSON.stringify({ weights: AVERAGE }), (path) => {
    const topology = fromFile(path);
    assert.deepEqual(topology, {
      kind: "custom",
      name: "pair.json",
      source: path,
      weights: [AVERAGE],
    });
    assert.ok(Object.isFrozen(topology) && Object.isFrozen(topology.weights[0]![0]));
  });
  withFile(
    "p.json",
    JSON.stringify({ name: "my pair", description: "two ranks", weights: AVERAGE }),
    (
      path,
    ) => assert.equal(fromFile(path).name, "my pair"),
  );
});

Deno.test("fromFile: accepts a file URL and a list of per-step matrices", () => {
  const identity = [[1, 0], [0, 1]];
  withFile("lazy.json", JSON.stringify({ weights: [identity, AVERAGE] }), (path) => {
    const topology = fromFile(new URL(`file://${path}`));
    assert.equal(topology.source, path);
    assert.equal(period(topology, 2), 2);
    assert.deepEqual(mixingMatrix(topology, 2, 0), identity);
    assert.deepEqual(mixingMatrix(topology, 2, 1), AVERAGE);
    assert.deepEqual(mixingMatrix(topology, 2, 4), identity);
  });
});

Deno.test("fromFile does not judge stochasticity or connectivity: topologyProblems does", () => {
  // Rows sum to 2 and 0, columns to 1 and 1; rank 1 sends to 0 but 0 never sends to 1.
  withFile("lopsided.json", JSON.stringify({ weights: [[1, 1], [0, 0]] }), (path) => {
    assert.deepEqual(topologyProblems(fromFile(path), 2), [
      'topology "custom lopsided.json" is not doubly stochastic: row 0 sums to 2',
      'topology "custom lopsided.json" is not strongly connected: rank 0 never reaches rank 1',
    ]);
  });
});

Deno.test("fromFile: a relative path is relative to the calling module, not the working directory", async () => {
  const dir = tempDir();
  try {
    Deno.mkdirSync(`${dir.path}/presets`);
    Deno.writeTextFileSync(`${dir.path}/presets/pair.json`, JSON.stringify({ weights: AVERAGE }));
    const mod = new URL("./mod.ts", import.meta.url).href;
    Deno.writeTextFileSync(
      `${dir.path}/pipeline.ts`,
      `import { fromFile } from ${JSON.stringify(mod)};\n` +
        `export default fromFile("./presets/pair.json");\n`,
    );
    // The working directory (the repository, when tests run) holds no presets/pair.json.
    const { default: topology } = await import(`file://${dir.path}/pipeline.ts`);
    assert.equal(topology.source, `${dir.path}/presets/pair.json`);
    assert.deepEqual(topology.weights, [AVERAGE]);
  } finally {
    dir.remove();
  }
});

Deno.test("fromFile: an unknown key is named; a URL other than file: points to fetchPreset", () => {
  withFile(
    "typo.json",
    JSON.stringify({ weight: AVERAGE }),
    (path) =>
      assertFileError(
        path,
        'unknown key "weight": a preset has "weights", and optionally "name", "description" and "$schema"',
      ),
  );
  withFile(
    "schema.json",
    JSON.stringify({ $schema: "../docs/topology_preset.schema.json", weights: AVERAGE }),
    (path) => assert.deepEqual(fromFile(path).weights, [AVERAGE]),
  );
  assert.throws(
    () => fromFile("https://example.com/ring8.json"),
    /Cannot load topology file "https:\/\/example.com\/ring8.json": fromFile reads local files; a preset at an https: URL is fetched \(and validated, never imported\) with await fetchPreset\(url\)/,
  );
});
