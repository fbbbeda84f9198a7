import assert from "node:assert/strict";
import { join } from "node:path";
import {
  allReduce,
  linear,
  logistic,
  mlp,
  sgd,
  tensors,
  type TensorsOptions,
  train,
} from "../../mod.ts";
import { PlanError } from "../../dsl/validate.ts";
import type { Plan } from "../../dsl/plan.ts";
import { npyBytes, safetensorsBytes, zipBytes } from "./_array_files.ts";
import { parseNpy } from "./npy.ts";
import { openZip } from "./zip.ts";
import { readTensors, TensorsFileError } from "./tensors.ts";
import { loadWorkerData } from "./worker_data.ts";
import { partition } from "./partition.ts";
import { randomStream } from "../random.ts";
import { resourceIssues } from "../resources.ts";
import { loadPlan } from "../load_plan.ts";
import { createModel } from "../models/create_model.ts";
import { selectBackend } from "../backend.ts";

// Six examples of two features, x[i] = [2i, 2i + 1], labels 0 1 2 0 1 2: integers, so every
// dtype below holds them exactly.
const X = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const Y = [0, 1, 2, 0, 1, 2];
// The same matrix column by column (Fortran order).
const X_FORTRAN = [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11];

/** Runs `body` in a fresh temporary folder. */
async function inTemp(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_tensors_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes a file into `dir` and returns its path. */
async function write(dir: string, name: string, bytes: Uint8Array | string): Promise<string> {
  const path = join(dir, name);
  if (typeof bytes === "string") await Deno.writeTextFile(path, bytes);
  else await Deno.writeFile(path, bytes);
  return path;
}

/** A plan of 2 workers on tensors data. */
function plan(options: TensorsOptions, workers = 2): Plan {
  return train(mlp({ hidden: [3] })).data(tensors(options)).workers(workers)
    .optimizer(sgd({ lr: 0.1 })).base(allReduce()).seed(7).compile();
}

/** What a worker sees: its first batches and the test set, as plain numbers. */
async function seen(p: Plan, rank: number): Promise<unknown> {
  const data = await loadWorkerData(p, rank);
  const batches = [0, 1, 2, 3].map((k) => data.batch(k)).map((b) => [[...b.x], [...b.y]]);
  return { shard: data.shardSize, batches, test: [[...data.test.x], [...data.test.y]] };
}

Deno.test(".npy files of f4, f8, i8 and u1 (versions 1, 2, 3) and a Fortran-order file read back exactly", async () => {
  for (const descr of ["<f4", "<f8", "<i8", "|u1"]) {
    for (const version of [1, 2, 3] as const) {
      const bytes = npyBytes({ descr, shape: [6, 2], values: X }, { version });
      assert.equal(bytes.length % 64, (12 * Number(descr.slice(2))) % 64, "header padded to 64");
      const array = parseNpy(bytes);
      assert.deepEqual(array.shape, [6, 2]);
      assert.equal(array.dtype, descr.slice(1));
    }
  }
  await inTemp(async (dir) => {
    const y = await write(dir, "y.npy", npyBytes({ descr: "<i8", shape: [6], values: Y }));
    for (
      const [name, descr, fortran] of [
        ["f4", "<f4", false],
        ["f8", "<f8", false],
        [
          "i8",
          "<i8",
          false,
        ],
        ["u1", "|u1", false],
        ["fortran", "<f8", true],
      ] as const
    ) {
      const x = await write(
        dir,
        `${name}.npy`,
        npyBytes({ descr, shape: [6, 2], values: fortran ? X_FORTRAN : X }, { fortran }),
      );
      const data = await readTensors(tensors({ train: { x, y } }));
      assert.deepEqual([...data.train.x], X, name);
      assert.deepEqual([...data.train.y], Y, name);
      assert.deepEqual([data.features, data.classes, data.train.size], [2, 3, 6]);
    }
    // A 3-D array in Fortran order: element (i, j, k) sits at i + 2j + 4k.
    const cube = Array.from({ length: 8 }, (_, f) => f);
    const x = await write(
      dir,
      "cube.npy",
      npyBytes({ descr: "|u1", shape: [2, 2, 2], values: cube }, { fortran: true }),
    );
    const y2 = await write(dir, "y2.npy", npyBytes({ descr: "|u1", shape: [2], values: [0, 1] }));
    const data = await readTensors(tensors({ train: { x, y: y2 } }));
    // C order (i, j, k) with k fastest: (0,0,0)=0 (0,0,1)=4 (0,1,0)=2 (0,1,1)=6, then +1.
    assert.deepEqual([...data.train.x], [0, 4, 2, 6, 1, 5, 3, 7]);
    assert.equal(data.features, 4);
  });
});

Deno.test("npz (stored and deflated), safetensors, npy and CSV files of the same arrays give identical worker data", async () => {
  await inTemp(async (dir) => {
    const npy = (descr: string, shape: number[], values: number[]) =>
      npyBytes({ descr, shape, values });
    const table = Y.map((y, i) => `${X[2 * i]},${X[2 * i + 1]},${y}`).join("\n");
    const files = {
      stored: await write(
        dir,
        "stored.npz",
        await zipBytes([["x.npy", npy("<f4", [6, 2], X)], ["y.npy", npy("<i8", [6], Y)]], 0),
      ),
      deflated: await write(
        dir,
        "deflated.npz",
        await zipBytes([
          ["x.npy", npy("<f8", [6, 2], X)],
          ["y.npy", npy("|u1", [6], Y)],
          ["note.npy", npy("|u1", [1], [9])],
        ], 8),
      ),
      safetensors: await write(
        dir,
        "data.safetensors",
        safetensorsBytes([
          { name: "y", dtype: "I64", shape: [6], values: Y },
          { name: "x", dtype: "F32", shape: [6, 2], values: X },
        ]),
      ),
      npy: await write(
        dir,
        "table.npy",
        npy("<f8", [6, 3], Y.flatMap((y, i) => [X[2 * i]!, X[2 * i + 1]!, y])),
      ),
      header: await write(dir, "header.csv", `first, second ,label\r\n${table}\r\n\r\n`),
      bare: await write(dir, "bare.csv", `${table}\n`),
    };
    // The deflated archive really is compressed.
    const zip = openZip(await Deno.readFile(files.deflated));
    assert.deepEqual(zip.names, ["x.npy", "y.npy", "note.npy"]);
    const reference = await seen(plan({ train: files.stored, testSize: 2, batchSize: 2 }), 1);
    for (const [name, file] of Object.entries(files)) {
      const data = await readTensors(tensors({ train: file }));
      assert.deepEqual([...data.train.x], X, name);
      assert.deepEqual([...data.train.y], Y, name);
      for (const rank of [0, 1]) {
        const p = plan({ train: file, testSize: 2, batchSize: 2 });
        const expected = rank === 1
          ? reference
          : await seen(plan({ train: files.stored, testSize: 2, batchSize: 2 }), 0);
        assert.deepEqual(await seen(p, rank), expected, `${name}, rank ${rank}`);
      }
    }
    // The split, by hand: test = the first 2 of the seeded permutation, train the other 4,
    // shared 2 and 2 by the iid partition; every example appears exactly once.
    const order = randomStream(7, "tensors-split").permutation(6);
    const w0 = await loadWorkerData(plan({ train: files.bare, testSize: 2 }), 0);
    assert.deepEqual([...w0.test.y], [...order.subarray(0, 2)].map((i) => Y[i]));
    assert.deepEqual([...w0.test.x], [...order.subarray(0, 2)].flatMap((i) => [2 * i, 2 * i + 1]));
    // A fraction: round(0.5 · 6) = 3 test examples.
    const half = await loadWorkerData(plan({ train: files.bare, testSize: 0.5 }), 0);
    assert.equal(half.test.size, 3);
  });
});

Deno.test("CSV: the label column is the last, or the header column labels names; a test file is read as it is", async () => {
  await inTemp(async (dir) => {
    const file = await write(dir, "t.csv", "label,a,b\n1,10,11\n0,20,21\n1,30,31\n0,40,41\n");
    const data = await readTensors(tensors({ train: file, labels: "label" }));
    assert.deepEqual([...data.train.x], [10, 11, 20, 21, 30, 31, 40, 41]);
    assert.deepEqual([...data.train.y], [1, 0, 1, 0]);
    const test = await write(dir, "test.csv", "label,a,b\n0,5,6\n");
    const p = plan({ train: file, test, labels: "label" });
    const worker = await loadWorkerData(p, 1);
    assert.deepEqual([[...worker.test.x], [...worker.test.y]], [[5, 6], [0]]);
    assert.equal(worker.shardSize, 2);
  });
});

Deno.test("byLabel and dirichlet shards of a tensors data set are those the partition gives its labels", async () => {
  await inTemp(async (dir) => {
    // 40 examples, 4 classes; feature 0 is the example's index, so a shard names its examples.
    const labels = Array.from({ length: 40 }, (_, i) => (i * 7) % 4);
    const x = Array.from({ length: 40 }, (_, i) => [i, labels[i]! * 10]).flat();
    const npz = await write(
      dir,
      "p.npz",
      await zipBytes([
        ["x.npy", npyBytes({ descr: "<f4", shape: [40, 2], values: x })],
        ["y.npy", npyBytes({ descr: "<i8", shape: [40], values: labels })],
      ], 8),
    );
    const test = await write(dir, "test.csv", "0,0,0\n1,10,1\n");
    for (
      const options of [
        { partition: "byLabel", classesPerWorker: 2 },
        { partition: "dirichlet", alpha: 0.3 },
      ] as const
    ) {
      const p = plan({ train: npz, test, batchSize: 1, ...options }, 3);
      const expected = partition(
        p.data.kind === "tensors" ? p.data.partition : { kind: "iid" },
        labels,
        { workers: 3, classes: 4 },
        randomStream(7, "partition"),
      );
      for (let rank = 0; rank < 3; rank++) {
        const data = await loadWorkerData(p, rank);
        // One epoch of batches of one visits the shard once.
        const visited = Array.from({ length: data.shardSize }, (_, k) => data.batch(k).x[0]!);
        assert.deepEqual(visited.sort((a, b) => a - b), [...expected[rank]!], options.partition);
      }
    }
  });
});

Deno.test("the model takes the feature and class counts from the files", async () => {
  await inTemp(async (dir) => {
    const file = await write(dir, "m.csv", "1,2,3,0\n4,5,6,4\n");
    const p = train(mlp({ hidden: [2] })).data(tensors({ train: file, testSize: 1 })).workers(1)
      .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
    const model = await createModel(p, selectBackend("cpu"));
    // 3 features → 2 hidden → 5 classes (largest label 4, plus one).
    assert.equal(model.parameterCount, 3 * 2 + 2 + 2 * 5 + 5);
    model.dispose();
    const regression = train(linear({ dim: 4 }))
      .data(tensors({ train: file, task: "regression", testSize: 1 })).workers(1)
      .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
    await assert.rejects(createModel(regression), /Linear dim 4 does not match the data's 3/);
    const narrow = train(logistic({ classes: 3 })).data(tensors({ train: file, testSize: 1 }))
      .workers(1).optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
    await assert.rejects(createModel(narrow), /Logistic classes 3 does not match the data's 5/);
  });
});

Deno.test("a pipeline names its data files relative to itself", async () => {
  await inTemp(async (dir) => {
    await Deno.mkdir(join(dir, "data"));
    await write(dir, "data/d.csv", "0,0\n1,1\n2,0\n3,1\n");
    const mod = new URL("../../mod.ts", import.meta.url).href;
    const pipeline = await write(
      dir,
      "pipeline.ts",
      `import { allReduce, mlp, sgd, tensors, train } from "${mod}";
export default train(mlp({ hidden: [2] })).data(tensors({ train: "data/d.csv", test: { x: "x.npy", y: "y.npy" } }))
  .workers(2).optimizer(sgd({ lr: 0.1 })).base(allReduce());
`,
    );
    const error = await loadPlan(pipeline).catch((error) => error);
    // The test files are missing; the train file is found next to the pipeline.
    assert.ok(error instanceof PlanError, String(error));
    assert.equal(error.issues[0]!.path, "data.test.x");
    assert.match(error.issues[0]!.message, new RegExp(`"${join(dir, "x.npy")}": file not found`));
    const plan = await loadPlan(pipeline, { checkFiles: false });
    assert.deepEqual(plan.data.kind === "tensors" && [plan.data.train, plan.data.test], [
      join(dir, "data", "d.csv"),
      { x: join(dir, "x.npy"), y: join(dir, "y.npy") },
    ]);
  });
});

Deno.test("each bad file is a TensorsFileError naming the file and what is wrong", async () => {
  await inTemp(async (dir) => {
    const good = (descr = "<f4") => npyBytes({ descr, shape: [6, 2], values: X });
    const y = npyBytes({ descr: "<i8", shape: [6], values: Y });
    const cases: [string, () => Promise<TensorsOptions>, RegExp][] = [
      [
        "missing",
        () => Promise.resolve({ train: join(dir, "none.npz") }),
        /none\.npz": file not found/,
      ],
      [
        "extension",
        async () => ({ train: await write(dir, "d.parquet", "x") }),
        /d\.parquet": unknown file extension; expected one of \.npz, \.safetensors, \.npy, \.csv/,
      ],
      [
        "npy magic",
        async () => ({ train: await write(dir, "bad.npy", "not numpy at all") }),
        /bad\.npy": not a \.npy file/,
      ],
      [
        "npy header",
        async () => ({
          train: {
            x: await write(
              dir,
              "hx.npy",
              npyBytes({ descr: "<f4", shape: [6, 2], values: X }, { header: "{'shape': (6, 2)}" }),
            ),
            y: await write(dir, "hy.npy", y),
          },
        }),
        /hx\.npy": the \.npy header is not a dict of 'descr', 'fortran_order' and 'shape'/,
      ],
      [
        "npy short",
        async () => ({
          train: {
            // 128 header bytes, then 36 of the 48 data bytes.
            x: await write(dir, "sx.npy", good().subarray(0, 128 + 36)),
            y: await write(dir, "y.npy", y),
          },
        }),
        /sx\.npy": shape \(6, 2\) needs 48 bytes of data but the file has 36/,
      ],
      [
        "npy header cut",
        async () => ({
          train: { x: await write(dir, "cx.npy", good().subarray(0, 100)), y: join(dir, "y.npy") },
        }),
        /cx\.npy": the \.npy header claims 118 bytes but the file has 90/,
      ],
      [
        "dtype",
        async () => ({
          train: {
            x: await write(dir, "bx.npy", npyBytes({ descr: ">f4", shape: [6, 2], values: [] })),
            y: await write(dir, "y.npy", y),
          },
        }),
        /bx\.npy": dtype '>f4' is not supported/,
      ],
      [
        "safetensors dtype",
        async () => ({
          train: await write(
            dir,
            "h.safetensors",
            safetensorsBytes([{ name: "x", dtype: "F16", shape: [0], values: [] }]),
          ),
        }),
        /h\.safetensors": tensor "x": dtype "F16" is not supported/,
      ],
      [
        "x missing",
        async () => ({
          train: await write(dir, "n.npz", await zipBytes([["a.npy", good()], ["y.npy", y]], 0)),
        }),
        /n\.npz": no array named "x" \(arrays present: "a", "y"\)/,
      ],
      [
        "x missing in safetensors",
        async () => ({
          train: await write(
            dir,
            "n.safetensors",
            safetensorsBytes([{ name: "y", dtype: "I64", shape: [6], values: Y }]),
          ),
        }),
        /n\.safetensors": no array named "x" \(arrays present: "y"\)/,
      ],
      [
        "N mismatch",
        async () => ({
          train: await write(
            dir,
            "m.npz",
            await zipBytes([["x.npy", good()], [
              "y.npy",
              npyBytes({ descr: "<i8", shape: [5], values: [0, 1, 2, 0, 1] }),
            ]], 8),
          ),
        }),
        /m\.npz": the features have 6 examples but the labels have 5/,
      ],
      [
        "NaN",
        async () => ({
          train: await write(
            dir,
            "nan.npz",
            await zipBytes([[
              "x.npy",
              npyBytes({ descr: "<f8", shape: [6, 2], values: X.map((v) => v === 7 ? NaN : v) }),
            ], ["y.npy", y]], 0),
          ),
        }),
        /nan\.npz": features must be finite numbers, but example 3 has NaN at feature 1/,
      ],
      [
        "Infinity in CSV",
        async () => ({ train: await write(dir, "inf.csv", "a,b,y\n1,2,0\n\n3,-inf,1\n") }),
        /inf\.csv": features must be finite numbers, but line 4 has -Infinity at feature 1/,
      ],
      [
        "empty npy",
        async () => ({
          train: {
            x: await write(dir, "ex.npy", npyBytes({ descr: "<f4", shape: [0, 2], values: [] })),
            y: await write(dir, "ey.npy", npyBytes({ descr: "<i8", shape: [0], values: [] })),
          },
        }),
        /ex\.npy": it holds no examples/,
      ],
      [
        "empty CSV",
        async () => ({ train: await write(dir, "e.csv", "a,b,label\n") }),
        /e\.csv": it holds no examples/,
      ],
      [
        "empty file",
        async () => ({ train: await write(dir, "zero.npz", "") }),
        /zero\.npz": not a zip archive/,
      ],
      [
        "CSV text",
        async () => ({ train: await write(dir, "t.csv", "a,b\n1,2\n3,x\n") }),
        /t\.csv": line 3, column 2: "x" is not a number/,
      ],
      [
        "label not integer",
        async () => ({ train: await write(dir, "l.csv", "1,0\n2,1\n3,2.5\n") }),
        /l\.csv": classification labels must be class indices 0, 1, 2, …, but line 3 has 2\.5/,
      ],
      [
        "label out of range",
        async () => ({
          train: await write(dir, "r.csv", "1,0\n2,1\n3,3\n"),
          classes: 3,
        }),
        /r\.csv": classification labels must be class indices 0\.\.2, but line 3 has 3/,
      ],
      [
        "test label out of range",
        async () => ({
          train: await write(dir, "tr.csv", "1,0\n2,1\n"),
          test: await write(dir, "te.csv", "1,0\n2,1\n\n5,2\n"),
        }),
        /te\.csv": classification labels must be class indices 0\.\.1, but line 4 has 2/,
      ],
      [
        "one class",
        async () => ({ train: await write(dir, "one.csv", "1,0\n2,0\n") }),
        /one\.csv": classification needs at least 2 classes/,
      ],
      [
        "single npy of one column",
        async () => ({
          train: await write(dir, "col.npy", npyBytes({ descr: "<f4", shape: [6], values: Y })),
        }),
        /col\.npy": a single \.npy file holds one 2-D array.*shape is \(6\)/,
      ],
      [
        "labels column",
        async () => ({ train: await write(dir, "c.csv", "a,b\n1,0\n"), labels: "target" }),
        /c\.csv": no column named "target" \(columns: a, b\)/,
      ],
    ];
    for (const [name, options, message] of cases) {
      const node = tensors(await options());
      const error = await readTensors(node).catch((error) => error);
      assert.ok(error instanceof TensorsFileError, `${name}: ${error}`);
      assert.match(error.message, /^Cannot read data file "/, name);
      assert.match(error.message, message, `${name}: ${error.message}`);
    }
  });
});

Deno.test("damaged and zip64 archives are refused with a message, never read out of range", async () => {
  const npy = npyBytes({ descr: "<f4", shape: [6, 2], values: X });
  const archive = await zipBytes([["x.npy", npy]], 8);
  // A flipped byte of deflated data fails its CRC or the inflate.
  const flipped = archive.slice();
  flipped[40] = flipped[40]! ^ 0xff;
  await assert.rejects(openZip(flipped).read("x.npy"), /zip entry "x\.npy"/);
  // An entry count of 0xFFFF marks a zip64 archive.
  const zip64 = archive.slice();
  new DataView(zip64.buffer).setUint16(zip64.length - 12, 0xffff, true);
  assert.throws(() => openZip(zip64), /zip64 archives are not supported/);
  // A central directory pointing past the file.
  const outside = archive.slice();
  new DataView(outside.buffer).setUint32(outside.length - 6, 1 << 30, true);
  assert.throws(() => openZip(outside), /central directory lies outside the file/);
});

Deno.test("the compiler refuses class partitions of regression data, testSize with a test file, classes for regression", () => {
  const compile = (options: TensorsOptions) => () =>
    train(linear({ dim: 2 })).data(tensors(options)).workers(2).optimizer(sgd({ lr: 0.1 }))
      .base(allReduce()).compile();
  assert.throws(
    compile({ train: "d.npz", task: "regression", partition: "dirichlet" }),
    (error) =>
      error instanceof PlanError && error.issues[0]!.path === "data.partition" &&
      /partition "dirichlet" splits by class, but regression data has no classes/.test(
        error.message,
      ),
  );
  assert.throws(
    compile({ train: "d.npz", task: "regression", partition: "byLabel" }),
    /partition "byLabel" splits by class/,
  );
  assert.throws(
    compile({ train: "d.npz", test: "t.npz", testSize: 10, task: "regression" }),
    /testSize splits the training file, but a test file is given/,
  );
  assert.throws(
    compile({ train: "d.npz", task: "regression", classes: 3 }),
    /classes applies to classification only/,
  );
  assert.throws(
    compile({ train: "d.npz", task: "regression", testSize: 1.5 }),
    /must be a count \(a whole number ≥ 1\) or a fraction in \(0, 1\)/,
  );
});

Deno.test("the resource check reads the files before a run: too few examples, a linear model of the wrong size", async () => {
  await inTemp(async (dir) => {
    const file = await write(dir, "few.csv", "1,2,0.5\n3,4,1.5\n5,6,2.5\n");
    const p = train(linear({ dim: 3 })).data(tensors({ train: file, task: "regression" }))
      .workers(4).optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
    const issues = await resourceIssues(p);
    // round(0.2 · 3) = 1 test example leaves 2 to train on for 4 workers; 2 features, not 3.
    assert.deepEqual(issues.map((issue) => [issue.path, issue.message]), [
      ["workers", "2 training examples cannot be shared by 4 workers"],
      ["model.dim", "linear dim 3 does not match the data's 2 features"],
    ]);
  });
});
