import assert from "node:assert/strict";
import {
  allReduce,
  type PlanIssue,
  sgd,
  text,
  type TextOptions,
  train,
  transformer,
} from "../../mod.ts";
import { mapFileRefs } from "../file_refs.ts";
import { dataShape } from "../shapes.ts";
import { EMBEDDED_TEXT_BYTES, textShard, textSplit } from "./text.ts";
import { compileIssues } from "../_testing.ts";

/** A transformer of context `context` on `text(options)`, compiled for `workers`; its issues. */
function issuesOf(options: TextOptions, context: number, workers = 1): readonly PlanIssue[] {
  return compileIssues(
    train(transformer({ layers: 1, dModel: 8, heads: 2, context }))
      .data(text(options)).workers(workers).optimizer(sgd({ lr: 0.1 })).base(allReduce()),
  );
}

Deno.test("text data is language data over the 256 byte values", () => {
  assert.deepEqual(dataShape(text()), {
    task: "language",
    features: null,
    classes: 256,
    image: null,
  });
  assert.deepEqual(text(), {
    kind: "text",
    file: null,
    tokenizer: "byte",
    validation: 0.1,
    partition: "contiguous",
    batchSize: 16,
  });
  assert.equal(text({ file: new URL("file:///data/my%20text.txt") }).file, "/data/my text.txt");
});

Deno.test("the split holds round(validation · N) tokens back, the rest train", () => {
  assert.deepEqual(textSplit(EMBEDDED_TEXT_BYTES, 0.1), { train: 1_084_497, validation: 120_500 });
  assert.deepEqual(textSplit(10, 0.25), { train: 7, validation: 3 }); // 2.5 rounds up
  assert.deepEqual(textSplit(7, 0.5), { train: 3, validation: 4 }); // 3.5 rounds up
});

Deno.test("contiguous shards are equal slices from the start; the remainder trains no one", () => {
  const shards = [0, 1, 2].map((rank) => textShard(11, "contiguous", 3, rank));
  assert.deepEqual(shards, [{ start: 0, end: 3 }, { start: 3, end: 6 }, { start: 6, end: 9 }]);
  assert.deepEqual(textShard(11, "iid", 3, 1), { start: 0, end: 11 });
});

Deno.test("values out of range fail compile() with their paths", () => {
  const paths = issuesOf(
    { validation: 1, batchSize: 0, partition: "dirichlet" as never, tokenizer: "bpe" as never },
    8,
  ).map((issue) => issue.path).sort();
  assert.deepEqual(paths, [
    "data.batchSize",
    "data.partition",
    "data.tokenizer",
    "data.validation",
  ]);
  assert.deepEqual(issuesOf({ validation: 0 }, 8).map((issue) => issue.path), ["data.validation"]);
});

Deno.test("the embedded text must give every worker and the validation a whole window", () => {
  assert.deepEqual(issuesOf({}, 1024, 8), []);
  // 1e-4 of 1,204,997 bytes is 120 validation tokens: fewer than a window of 129.
  const short = issuesOf({ validation: 1e-4 }, 128);
  assert.equal(short.length, 1);
  assert.equal(short[0]!.path, "data.validation");
  assert.match(
    short[0]!.message,
    /holds 120 of the 1204997 tokens of the embedded text, less than one window .* 129/,
  );
  // 1,084,497 training tokens over 2000 workers: 542 each, less than 1025.
  const thin = issuesOf({}, 1024, 2000);
  assert.equal(thin.length, 1);
  assert.equal(thin[0]!.path, "data.partition");
  assert.match(
    thin[0]!.message,
    /each of the 2000 workers gets 542 of the 1084497 training tokens of the embedded text/,
  );
  // With iid every worker reads all of them.
  assert.deepEqual(issuesOf({ partition: "iid" }, 1024, 2000), []);
});

Deno.test("a text file is a file reference of the plan; the embedded text is none", () => {
  const compiled = (data: ReturnType<typeof text>) =>
    train(transformer({ layers: 1, dModel: 8, heads: 2, context: 8 })).data(data)
      .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
  const moved = mapFileRefs(compiled(text({ file: "corpus.txt" })), (ref, field) => {
    assert.equal(field, "data.file");
    return `/project/${ref}`;
  });
  assert.equal(moved.data.kind === "text" && moved.data.file, "/project/corpus.txt");
  const embedded = compiled(text());
  assert.equal(mapFileRefs(embedded, () => assert.fail("no file to map")), embedded);
});
