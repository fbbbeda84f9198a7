/**
 * docs/topology_preset.schema.json, which editors use to check presets, agrees with what
 * `fromFile` accepts: the shipped presets and `topologyPreset`'s output validate; bad presets are
 * refused by both. The one thing JSON Schema cannot say (every matrix square and of one size) is
 * the listed difference. The validator here is a tiny one for the keywords the schema uses.
 */

import assert from "node:assert/strict";
import { fromFile, onePeerExponential, ring, topologyPreset, torus } from "../topologies/mod.ts";

type Schema = Record<string, unknown>;

const SCHEMA_URL = new URL("../docs/topology_preset.schema.json", import.meta.url);
const SCHEMA = JSON.parse(await Deno.readTextFile(SCHEMA_URL)) as Schema;

/** The keywords this validator knows; the test fails if the schema uses another. */
const KNOWN = new Set([
  "$schema",
  "$defs",
  "$ref",
  "title",
  "description",
  "type",
  "required",
  "additionalProperties",
  "properties",
  "anyOf",
  "items",
  "minItems",
  "minimum",
]);

/** Whether `value` is valid under `schema` (a sub-schema of {@linkcode SCHEMA}). */
function valid(value: unknown, schema: Schema): boolean {
  for (const key of Object.keys(schema)) assert.ok(KNOWN.has(key), `unknown keyword ${key}`);
  if (typeof schema.$ref === "string") {
    const name = schema.$ref.replace("#/$defs/", "");
    return valid(value, (SCHEMA.$defs as Record<string, Schema>)[name]!);
  }
  if (Array.isArray(schema.anyOf)) return schema.anyOf.some((option) => valid(value, option));
  switch (schema.type) {
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
      const record = value as Record<string, unknown>;
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      if (!((schema.required ?? []) as string[]).every((key) => key in record)) return false;
      if (
        schema.additionalProperties === false &&
        Object.keys(record).some((key) => !(key in properties))
      ) return false;
      return Object.entries(record).every(([key, item]) =>
        properties[key] === undefined || valid(item, properties[key])
      );
    }
    case "array":
      return Array.isArray(value) && value.length >= ((schema.minItems as number) ?? 0) &&
        value.every((item) => schema.items === undefined || valid(item, schema.items as Schema));
    case "number":
      return typeof value === "number" &&
        (schema.minimum === undefined || value >= (schema.minimum as number));
    case "string":
      return typeof value === "string";
  }
  throw new Error(`unknown type ${String(schema.type)}`);
}

/** Whether `fromFile` loads the preset. */
function loads(preset: unknown): boolean {
  const dir = Deno.makeTempDirSync({ prefix: "gossamer_schema_" });
  try {
    Deno.writeTextFileSync(`${dir}/preset.json`, JSON.stringify(preset));
    fromFile(`${dir}/preset.json`);
    return true;
  } catch {
    return false;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const HALF = [[0.5, 0.5], [0.5, 0.5]];

Deno.test("the shipped presets and topology --json's output validate against the schema", async () => {
  const shipped = new URL("../examples/presets/", import.meta.url);
  const files = [];
  for await (const entry of Deno.readDir(shipped)) {
    if (entry.name.endsWith(".json")) files.push(entry.name);
  }
  assert.ok(files.length > 0);
  for (const file of files) {
    const preset = JSON.parse(await Deno.readTextFile(new URL(file, shipped)));
    assert.ok(valid(preset, SCHEMA), file);
    assert.ok(loads(preset), file);
  }
  for (const [topology, n] of [[ring(), 8], [torus(), 9], [onePeerExponential(), 8]] as const) {
    const preset = JSON.parse(JSON.stringify(topologyPreset(topology, n)));
    assert.ok(valid(preset, SCHEMA), preset.name);
    assert.ok(loads(preset), preset.name);
  }
});

Deno.test("the schema and fromFile agree on good and bad presets", () => {
  const agree: [string, unknown, boolean][] = [
    ["one matrix", { weights: HALF }, true],
    ["a list of matrices", { weights: [HALF, [[1, 0], [0, 1]]] }, true],
    [
      "name, description, $schema",
      { $schema: "x", name: "p", description: "d", weights: HALF },
      true,
    ],
    ["a list, not an object", [HALF], false],
    ["no weights", { name: "p" }, false],
    ["a misspelt key", { weight: HALF }, false],
    ["an unknown key beside weights", { weights: HALF, gap: 0.5 }, false],
    ["a name that is a number", { name: 3, weights: HALF }, false],
    ["a description that is a list", { description: [], weights: HALF }, false],
    ["empty weights", { weights: [] }, false],
    ["an empty matrix in a list", { weights: [HALF, []] }, false],
    ["a flat vector", { weights: [0.5, 0.5] }, false],
    ["a negative weight", { weights: [[1.5, -0.5], [-0.5, 1.5]] }, false],
    ["a string weight", { weights: [[0.5, "0.5"], [0.5, 0.5]] }, false],
    ["a null weight", { weights: [[0.5, null], [0.5, 0.5]] }, false],
  ];
  for (const [label, preset, good] of agree) {
    assert.equal(valid(preset, SCHEMA), good, `schema: ${label}`);
    assert.equal(loads(preset), good, `fromFile: ${label}`);
  }
  // What JSON Schema cannot say: the schema lets these through, fromFile refuses them.
  const shape: [string, unknown][] = [
    ["a ragged matrix", { weights: [[0.5, 0.5], [1]] }],
    ["matrices of two sizes", { weights: [HALF, [[1]]] }],
  ];
  for (const [label, preset] of shape) {
    assert.ok(valid(preset, SCHEMA), `schema: ${label}`);
    assert.ok(!loads(preset), `fromFile: ${label}`);
  }
});
