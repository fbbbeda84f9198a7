/**
 * The guide and the algorithm reference list the kinds and which combine exactly as the kinds'
 * definitions say (the block `deno task docs:generate` writes), and the guide's table of factories
 * names every kind of every slot.
 */

import assert from "node:assert/strict";
import { DOCUMENTS, kindsBlock, withBlock } from "../scripts/docs_tables.ts";
import { BASE_KINDS } from "../dsl/bases/mod.ts";
import { COMPRESSOR_KINDS } from "../dsl/compressors/mod.ts";
import { DATA_KINDS } from "../dsl/data/mod.ts";
import { MODEL_KINDS } from "../dsl/models/mod.ts";
import { OPTIMIZER_KINDS } from "../dsl/optimizers/mod.ts";
import { OUTER_KINDS } from "../dsl/outers/mod.ts";

const ROOT = new URL("../", import.meta.url);

for (const document of DOCUMENTS) {
  Deno.test(`${document} shows the kinds and their combinations as generated`, async () => {
    const text = await Deno.readTextFile(new URL(document, ROOT));
    assert.ok(
      withBlock(text, await kindsBlock()) === text,
      `${document} is out of date: run \`deno task docs:generate\``,
    );
  });
}

Deno.test("the guide's table of factories names every kind, in its slot's rows", async () => {
  const guide = await Deno.readTextFile(new URL("docs/guide.md", ROOT));
  const section = guide.slice(guide.indexOf("## Pipelines"));
  const rows: [string, Record<string, unknown>][] = [
    ["model", MODEL_KINDS],
    ["data", DATA_KINDS],
    ["optimizer", OPTIMIZER_KINDS],
    ["base", BASE_KINDS],
    ["compress", COMPRESSOR_KINDS],
    ["outer", OUTER_KINDS],
  ];
  for (const [slot, table] of rows) {
    const rows = section.split("\n").filter((line) => line.startsWith(`| ${slot} `));
    assert.ok(rows.length > 0, `no row for ${slot}`);
    const named = rows.flatMap((row) => [...row.matchAll(/`(\w+)\(/g)].map((match) => match[1]));
    assert.deepEqual(named.filter((name) => name! in table), Object.keys(table), slot);
  }
});
