import { deepEqual, equal } from "node:assert/strict";
import { cada, gossip, localSgd } from "../bases/mod.ts";
import { mnist, synthetic, text } from "../data/mod.ts";
import { explainPlan } from "../explain.ts";
import { cnn, custom, linear, logistic, mlp, transformer } from "../models/mod.ts";
import { sgd } from "../optimizers/mod.ts";
import { modelVariables, parameterCount } from "../shapes.ts";
import { train } from "../train.ts";
import { ring } from "../../topologies/mod.ts";
import { compileIssues } from "../_testing.ts";
import { fragmentSizes, streamingDiloco } from "./streaming_diloco.ts";

/** An MLP on MNIST: variables 784·16, 16, 16·10, 10. */
function digits() {
  return train(mlp({ hidden: [16] })).data(mnist()).workers(4).optimizer(sgd({ lr: 0.1 }))
    .steps(100);
}

Deno.test("every model's variables are its parameters, in order", () => {
  const cases = [
    [linear({ dim: 5 }), synthetic({ task: "regression", features: 5 })],
    [logistic(), mnist()],
    [mlp({ hidden: [16, 8] }), mnist()],
    [cnn(), mnist()],
    [transformer({ layers: 2, dModel: 8, heads: 2, context: 8 }), text()],
  ] as const;
  for (const [model, data] of cases) {
    const sizes = modelVariables(model, data)!;
    equal(sizes.reduce((a, b) => a + b), parameterCount(model, data), model.kind);
  }
  deepEqual(modelVariables(mlp({ hidden: [16] }), mnist()), [784 * 16, 16, 160, 10]);
  equal(
    modelVariables(transformer({ layers: 2, dModel: 8, heads: 2, context: 8 }), text())!
      .length,
    2 + 2 * 12 + 2,
  );
  equal(modelVariables(custom({ module: "./m.ts" }), mnist()), null);
});

Deno.test("streamingDiloco checks its period, overlap, bits and fragments against the plan", () => {
  const start = digits().base(gossip(ring));
  deepEqual(compileIssues(start.outer(streamingDiloco({ tau: 8, fragments: 4, overlap: 1 }))), []);
  deepEqual(
    compileIssues(start.outer(streamingDiloco({ tau: 10, fragments: 4 }))).map((i) => i.message),
    [
      "streamingDiloco tau 10 is not a multiple of fragments 4: fragments take turns every tau/fragments steps",
    ],
  );
  deepEqual(
    compileIssues(start.outer(streamingDiloco({ tau: 8, fragments: 4, overlap: 2 }))).map((i) =>
      i.message
    ),
    ["streamingDiloco overlap 2 must be less than tau/fragments = 2: one sync is in flight at a time"],
  );
  deepEqual(
    compileIssues(start.outer(streamingDiloco({ tau: 8, fragments: 2, bits: 20 }))).map((i) =>
      `${i.path}: ${i.message}`
    ),
    ["outer.bits: streamingDiloco bits 20 is not supported: 2 to 16, or 32 for no quantization"],
  );
  deepEqual(
    compileIssues(start.outer(streamingDiloco({ tau: 8, fragments: 8 }))).map((i) =>
      `${i.path}: ${i.message}`
    ),
    [
      "outer.fragments: streamingDiloco fragments 8 is more than the model's 4 variables: a fragment is made of whole variables",
    ],
  );
  // A custom model's variables are known once it is loaded: the runtime checks them then.
  deepEqual(
    compileIssues(
      train(custom({ module: "./m.ts" })).data(mnist()).workers(4).optimizer(sgd({ lr: 0.1 }))
        .steps(100).base(gossip(ring)).outer(streamingDiloco({ tau: 8, fragments: 8 })),
    ),
    [],
  );
});

Deno.test("streamingDiloco over localSgd: the base period must equal tau; cada is refused", () => {
  const start = digits();
  deepEqual(
    compileIssues(
      start.base(localSgd({ tau: 8 })).outer(streamingDiloco({ tau: 8, fragments: 2 })),
    ),
    [],
  );
  deepEqual(
    compileIssues(
      start.base(localSgd({ tau: 4 })).outer(streamingDiloco({ tau: 8, fragments: 2 })),
    ),
    [{
      path: "outer.tau",
      message:
        "streamingDiloco tau 8 differs from localSgd tau 4: the fragment syncs replace every average of the base, so the base must not average between them",
      expected: "4, or localSgd tau 8",
      received: "8",
    }],
  );
  deepEqual(
    compileIssues(start.base(cada({ c: 1 })).outer(streamingDiloco({ tau: 8, fragments: 2 })))
      .map((i) => i.message),
    ["streamingDiloco cannot wrap cada: cada runs its own synchronisation"],
  );
});

Deno.test("gossamer plan: streamingDiloco's bytes per step and peak sync bytes, by hand", () => {
  // Fragments of the MLP: {784·16, 160} = 12,704 values and {16, 10} = 26 values.
  deepEqual(fragmentSizes([784 * 16, 16, 160, 10], 2), [12_704, 26]);
  const exact = explainPlan(
    digits().base(localSgd({ tau: 8 })).outer(streamingDiloco({ tau: 8, fragments: 2 }))
      .compile(),
  );
  // 32 bits: a ring all-reduce of each fragment once per 8 steps, 2·3/4·4 bytes per value.
  equal(exact.bytesPerStep!.outer, 6 * (12_704 + 26) / 8);
  equal(exact.bytesPerStep!.base, 0, "every localSgd average is replaced");
  equal(exact.peakSyncBytes, 6 * 12_704);
  const quantized = explainPlan(
    digits().base(localSgd({ tau: 8 })).outer(
      streamingDiloco({ tau: 8, fragments: 2, bits: 4, overlap: 1 }),
    ).compile(),
  );
  // 4 bits: one float32 scale per 128 values and half a byte per value, to 3 peers.
  const big = 3 * (Math.ceil(12_704 / 128) * 4 + 12_704 / 2);
  const small = 3 * (4 + 13);
  equal(quantized.bytesPerStep!.outer, (big + small) / 8);
  equal(quantized.peakSyncBytes, big);
});

Deno.test("streamingDiloco split: strided fragments of GPT-2 line up, balanced ones are about d/P", () => {
  const model = transformer({ layers: 2, dModel: 64, heads: 4, context: 64 });
  const variables = modelVariables(model, text())!;
  const d = parameterCount(model, text())!;
  // GPT-2's blocks hold 12 tensors: with 4 strided fragments every block's four weight matrices
  // land in fragments 0 and 2 (and the embeddings in 0 and 1), leaving 1 and 3 with biases and
  // layer norms.
  const strided = fragmentSizes(variables, 4);
  const balanced = fragmentSizes(variables, 4, "balanced");
  equal(strided.reduce((a, b) => a + b), d);
  equal(balanced.reduce((a, b) => a + b), d);
  deepEqual(strided, [73_856, 4_736, 41_152, 832]);
  // Largest first to the emptiest: the embedding and the four 64·256 MLP matrices (16,384 each)
  // spread over the four fragments, then the 64·192 attention matrices, and so on: within 9% of
  // d/4 = 30,144.
  deepEqual(balanced, [32_768, 29_312, 29_248, 29_248]);
  // The peak sync of the plan follows the split.
  const peak = (split: "strided" | "balanced") =>
    explainPlan(
      train(model).data(text()).workers(8).optimizer(sgd({ lr: 0.1 }))
        .base(localSgd({ tau: 20 })).outer(streamingDiloco({ tau: 20, fragments: 4, split }))
        .compile(),
    ).peakSyncBytes!;
  equal(peak("strided"), 2 * 7 / 8 * 4 * 73_856);
  equal(peak("balanced"), 2 * 7 / 8 * 4 * 32_768);
});
