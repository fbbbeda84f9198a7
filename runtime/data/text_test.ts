import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { allReduce, sgd, text, train, transformer } from "../../mod.ts";
import { textSplit } from "../../dsl/data/text.ts";
import { loadPlan } from "../load_plan.ts";
import { resourceIssues } from "../resources.ts";
import {
  decodeTokens,
  embeddedText,
  encodeBytes,
  readTextFile,
  TextDataError,
  TextShardError,
  textWindows,
  textWorkerData,
} from "./text.ts";
import { loadWorkerData } from "./worker_data.ts";
import { unigramEntropyBits } from "../../tests/runtime/_plans.ts";

/** Runs `body` in a fresh temporary folder, removed afterwards. */
async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer-text-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The window offset of each example of a batch, read from tokens that number their positions. */
function offsets(x: Float32Array, context: number, base: number): number[] {
  return Array.from({ length: x.length / context }, (_, i) => x[i * context]! - base);
}

const node = (overrides: Partial<Parameters<typeof textWorkerData>[1]["node"]> = {}) => ({
  file: null,
  validation: 0.2,
  partition: "contiguous" as const,
  batchSize: 4,
  ...overrides,
});

Deno.test("bytes round-trip any UTF-8 text: multi-byte letters, emoji, combining marks", () => {
  const samples = [
    "",
    "Call me Ishmael.",
    "naïve café, Ærøskøbing, Straße",
    "日本語のテキスト",
    "🐋🐳 whale 👩🏽‍🚀 family 👨‍👩‍👧‍👦 flag 🇳🇴",
    "e\u0301 vs \u00e9, a\u0308\u0304, Z\u0351\u036b\u0343\u036a", // combining marks kept as written
    "\u0000\u007f\u0080\u07ff\u0800\uffff\u{10000}\u{10ffff}", // UTF-8 length boundaries
  ];
  for (const sample of samples) {
    const tokens = encodeBytes(sample);
    assert.ok(tokens.every((token) => token >= 0 && token < 256));
    assert.equal(decodeTokens(tokens), sample);
    assert.equal(decodeTokens(Array.from(tokens)), sample);
  }
  assert.deepEqual([...encodeBytes("é🐋")], [0xc3, 0xa9, 0xf0, 0x9f, 0x90, 0x8b]);
  // A model's sample need not be UTF-8: invalid bytes decode to U+FFFD instead of failing.
  assert.equal(decodeTokens([0x61, 0xff, 0x62]), "a\ufffdb");
});

Deno.test("split sizes: the first 1 − validation train, the rest validate", async () => {
  const tokens = new Uint8Array(100).map((_, i) => i);
  const data = textWorkerData(tokens, { node: node(), context: 4, workers: 1, rank: 0, seed: 1 });
  // 20 validation tokens, 80..99, in 4 windows of 5.
  assert.equal(data.test.size, 4);
  assert.equal(data.test.x[0], 80);
  // The embedded corpus: 1,204,997 bytes, of which 120,500 validate.
  const corpus = await embeddedText();
  assert.equal(corpus.length, 1_204_997);
  assert.deepEqual(textSplit(corpus.length, 0.1), { train: 1_084_497, validation: 120_500 });
});

Deno.test("test windows: consecutive, non-overlapping, T + 1 long, the partial one dropped", () => {
  const validation = new Uint8Array(20).map((_, i) => 80 + i);
  const windows = textWindows(validation, 5); // windows of 6: 80..85, 86..91, 92..97; 98, 99 dropped
  assert.equal(windows.size, 3);
  assert.deepEqual([...windows.x], [80, 81, 82, 83, 84, 86, 87, 88, 89, 90, 92, 93, 94, 95, 96]);
  assert.deepEqual([...windows.y], [81, 82, 83, 84, 85, 87, 88, 89, 90, 91, 93, 94, 95, 96, 97]);
  // Through the worker data: the same windows cut from the end of the stream.
  const tokens = new Uint8Array(100).map((_, i) => i);
  const data = textWorkerData(tokens, { node: node(), context: 5, workers: 2, rank: 1, seed: 3 });
  assert.deepEqual([...data.test.x], [...windows.x]);
  assert.deepEqual([...data.test.y], [...windows.y]);
  // An exact multiple drops nothing.
  assert.equal(textWindows(validation, 4).size, 4);
});

/**
 * 3 contiguous shards of 80 tokens (240 train, 60 validation): shard i holds 80·i + p at its
 * position p, so a window's first token tells its worker and its offset.
 */
const numbered = new Uint8Array(300).map((_, i) => (i < 240 ? i : 0));

Deno.test("contiguous shards: worker i draws only from the i-th slice, at every offset in it", () => {
  const context = 5;
  for (const rank of [0, 1, 2]) {
    const data = textWorkerData(numbered, {
      node: node({ batchSize: 8 }),
      context,
      workers: 3,
      rank,
      seed: 11,
    });
    assert.equal(data.shardSize, 80 - context);
    const seen = new Set<number>();
    for (let k = 0; k < 100; k++) {
      const batch = data.batch(k);
      for (const offset of offsets(batch.x, context, 80 * rank)) seen.add(offset);
    }
    // Offsets 0 … 80 − (T + 1) and nothing else: the shard's first and last windows included.
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 75 }, (_, i) => i));
  }
});

Deno.test("iid: every worker draws from the whole training stream", () => {
  const context = 5;
  const seen = new Set<number>();
  for (let k = 0; k < 200; k++) {
    const batch = textWorkerData(numbered, {
      node: node({ partition: "iid", batchSize: 8 }),
      context,
      workers: 3,
      rank: 2,
      seed: 5,
    }).batch(k);
    for (const offset of offsets(batch.x, context, 0)) seen.add(offset);
  }
  // Offsets 0 … 240 − 6 = 234: beyond worker 2's own slice (160 … 234) and into the others'.
  assert.equal(Math.min(...seen), 0);
  assert.equal(Math.max(...seen), 234);
  assert.ok(seen.size > 200, `only ${seen.size} of 235 offsets seen`);
});

Deno.test("batches: deterministic in (seed, rank, step), inputs and targets shifted by one", () => {
  const context = 6;
  const make = (seed: number, rank: number) =>
    textWorkerData(numbered, {
      node: node({ partition: "iid", batchSize: 5 }),
      context,
      workers: 3,
      rank,
      seed,
    });
  const a = make(7, 1);
  const b = make(7, 1);
  // Random access: the same batch whatever was asked before.
  const late = b.batch(9);
  assert.deepEqual(a.batch(9), late);
  assert.deepEqual(a.batch(0), b.batch(0));
  assert.notDeepEqual([...a.batch(0).x], [...a.batch(1).x]);
  assert.notDeepEqual([...a.batch(0).x], [...make(7, 2).batch(0).x]);
  assert.notDeepEqual([...a.batch(0).x], [...make(8, 1).batch(0).x]);
  const batch = a.batch(3);
  assert.equal(batch.size, 5);
  assert.equal(batch.x.length, 5 * context);
  assert.equal(batch.y.length, 5 * context);
  for (let i = 0; i < 5; i++) {
    const start = batch.x[i * context]!;
    for (let j = 0; j < context; j++) {
      assert.equal(batch.x[i * context + j], start + j); // T consecutive tokens
      assert.equal(batch.y[i * context + j], start + j + 1); // each one's next token
    }
  }
  assert.throws(() => a.batch(-1), RangeError);
});

Deno.test("too little text: the validation part or a shard shorter than one window", () => {
  const tokens = new Uint8Array(100);
  // 10 validation tokens cannot hold a window of 11.
  assert.throws(
    () =>
      textWorkerData(tokens, {
        node: node({ validation: 0.1 }),
        context: 10,
        workers: 1,
        rank: 0,
        seed: 1,
      }),
    (error: Error) =>
      error instanceof TextDataError &&
      /the embedded text has 100 tokens, of which validation 0.1 holds 10: less than one window of context \+ 1 = 11/
        .test(error.message),
  );
  // 80 training tokens over 8 workers: 10 each, fewer than 11.
  assert.throws(
    () =>
      textWorkerData(tokens, {
        node: node({ file: "/data/tiny.txt", validation: 0.2 }),
        context: 10,
        workers: 8,
        rank: 3,
        seed: 1,
      }),
    (error: Error) =>
      error instanceof TextShardError && error.rank === 3 &&
      /^Worker 3's shard of text file "\/data\/tiny.txt" holds 10 of its 80 training tokens/
        .test(error.message),
  );
});

Deno.test("a missing file and a file that is not UTF-8 are named", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "nothing.txt");
    await assert.rejects(
      readTextFile(missing),
      (error: Error) =>
        error instanceof TextDataError &&
        error.message === `Cannot read text file "${missing}": it does not exist`,
    );
    const latin1 = join(dir, "latin1.txt");
    await Deno.writeFile(latin1, new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a])); // "café" in Latin-1
    await assert.rejects(
      readTextFile(latin1),
      (error: Error) =>
        error instanceof TextDataError &&
        error.message === `Text file "${latin1}" is not UTF-8 text`,
    );
    await assert.rejects(readTextFile(dir), TextDataError); // a folder, not a file
  });
});

Deno.test("a user's text file loads through a compiled plan and through a pipeline file", async () => {
  await withTempDir(async (dir) => {
    const content = "It is not down in any map; true places never are. 🐋\n".repeat(40);
    const path = join(dir, "corpus.txt");
    await Deno.writeTextFile(path, content);
    const bytes = encodeBytes(content);
    const context = 16;
    const plan = train(transformer({ layers: 1, dModel: 8, heads: 2, context }))
      .data(text({ file: path, batchSize: 3 }))
      .workers(2).optimizer(sgd({ lr: 0.1 })).base(allReduce()).seed(9).compile();
    const data = await loadWorkerData(plan, 1);
    const split = textSplit(bytes.length, 0.1);
    assert.equal(data.shardSize, Math.floor(split.train / 2) - context);
    // The validation windows are the file's last bytes, cut from the start of that part.
    const expected = textWindows(bytes.subarray(split.train), context);
    assert.equal(data.test.size, Math.floor(split.validation / (context + 1)));
    assert.deepEqual(data.test, expected);
    // A training window is T + 1 consecutive bytes of worker 1's half.
    const batch = data.batch(0);
    const half = bytes.subarray(Math.floor(split.train / 2), 2 * Math.floor(split.train / 2));
    const window = [...batch.x.subarray(0, context), batch.y[context - 1]!].join();
    const found = Array.from({ length: half.length - context }, (_, offset) => offset).some(
      (offset) => [...half.subarray(offset, offset + context + 1)].join() === window,
    );
    assert.ok(found, "the first window is not a window of the worker's half");

    // A pipeline file names the text relative to itself; loadPlan anchors it.
    const pipeline = join(dir, "pipeline.ts");
    await Deno.writeTextFile(
      pipeline,
      `import { allReduce, sgd, text, train, transformer } from ${
        JSON.stringify(new URL("../../mod.ts", import.meta.url).href)
      };\n` +
        `export default train(transformer({ layers: 1, dModel: 8, heads: 2, context: ${context} }))\n` +
        `  .data(text({ file: "corpus.txt", batchSize: 3 })).workers(2)\n` +
        `  .optimizer(sgd({ lr: 0.1 })).base(allReduce()).seed(9);\n`,
    );
    const loaded = await loadPlan(pathToFileURL(pipeline).pathname);
    assert.equal(loaded.data.kind === "text" && loaded.data.file, path);
    const again = await loadWorkerData(loaded, 1);
    assert.deepEqual(again.batch(0), batch);
  });
});

Deno.test("the embedded corpus: about 4.53 bits per byte of unigram entropy, far below 8", async () => {
  // The helper is right on streams whose entropy is known.
  assert.equal(unigramEntropyBits(new Uint8Array(256).map((_, i) => i)), 8);
  assert.equal(unigramEntropyBits(encodeBytes("aabb")), 1);
  assert.equal(unigramEntropyBits(encodeBytes("aaaa")), 0);
  const corpus = await embeddedText();
  const bits = unigramEntropyBits(corpus);
  // English text in ASCII with some punctuation: the measured value is 4.5260.
  assert.ok(Math.abs(bits - 4.526) < 5e-4, `unigram entropy ${bits}`);
  assert.equal(new Set(corpus).size, 85); // distinct byte values, UTF-8 lead and tail bytes included
  assert.ok(decodeTokens(corpus).startsWith("CHAPTER 1. Loomings.\n\nCall me Ishmael."));
});

Deno.test("before a run, a text file is checked: readable, UTF-8, a window for every worker", async () => {
  await withTempDir(async (dir) => {
    const plan = (file: string, workers = 2) =>
      train(transformer({ layers: 1, dModel: 8, heads: 2, context: 9 }))
        .data(text({ file })).workers(workers).optimizer(sgd({ lr: 0.1 })).base(allReduce())
        .compile();
    const path = join(dir, "hundred.txt");
    await Deno.writeTextFile(path, "0123456789".repeat(10)); // 90 train, 10 validation bytes
    assert.deepEqual(await resourceIssues(plan(path)), []);
    // 9 workers get 10 bytes each, a window is 10: still fine; 10 workers get 9.
    assert.deepEqual(await resourceIssues(plan(path, 9)), []);
    const thin = await resourceIssues(plan(path, 10));
    assert.deepEqual(thin.map((found) => found.path), ["data.partition"]);
    assert.match(thin[0]!.message, new RegExp(`gets 9 of the 90 training tokens of "${path}"`));
    const missing = join(dir, "gone.txt");
    const gone = await resourceIssues(plan(missing));
    assert.deepEqual(gone.map((found) => found.path), ["data.file"]);
    assert.match(gone[0]!.message, /Cannot read text file ".*gone.txt": it does not exist/);
  });
});
