import assert from "node:assert/strict";
import {
  allReduce,
  custom,
  explainPlan,
  mlp,
  mnist,
  type Pipeline,
  sgd,
  text,
  train,
  transformer,
} from "../../mod.ts";
import { parameterCount } from "../shapes.ts";
import { transformerParameters } from "./transformer.ts";
import { compileIssues } from "../_testing.ts";

const tiny = () => transformer({ layers: 2, dModel: 4, heads: 2, context: 3, mlpRatio: 2 });

Deno.test("the parameter count of a tiny transformer, tensor by tensor", () => {
  // V = 256, D = 4, T = 3, L = 2, mD = 8, counted by hand:
  const wte = 256 * 4; // 1024
  const wpe = 3 * 4; // 12
  const ln1 = 4 + 4; // weight, bias
  const cAttn = 4 * 12 + 12; // [D, 3D] + 3D = 60
  const attnProj = 4 * 4 + 4; // 20
  const ln2 = 4 + 4;
  const cFc = 4 * 8 + 8; // 40
  const mlpProj = 8 * 4 + 4; // 36
  const block = ln1 + cAttn + attnProj + ln2 + cFc + mlpProj; // 8 + 60 + 20 + 8 + 40 + 36 = 172
  const lnF = 4 + 4;
  const expected = wte + wpe + 2 * block + lnF; // 1024 + 12 + 344 + 8 = 1388
  assert.equal(expected, 1388);
  assert.equal(transformerParameters(tiny(), 256), 1388);
  assert.equal(parameterCount(tiny(), text()), 1388);
  // GPT-2 small as Hugging Face counts it (the head tied to wte is not counted twice).
  const gpt2 = transformer({ layers: 12, dModel: 768, heads: 12, context: 1024 });
  assert.equal(transformerParameters(gpt2, 50257), 124_439_808);
});

Deno.test("a transformer compiles on text data and the plan says vocabulary 256", () => {
  const plan = train(tiny()).data(text()).workers(2).optimizer(sgd({ lr: 0.1 }))
    .base(allReduce()).compile();
  const explanation = explainPlan(plan);
  assert.equal(explanation.parameters, 1388);
  const data = explanation.chain.find((entry) => entry.slot === "data")!.label;
  assert.match(data, /→ language, vocabulary 256$/);
  assert.match(data, /^text\(.*partition=contiguous/);
});

Deno.test("dModel must be a multiple of heads, said in words", () => {
  const issues = compileIssues(
    train(transformer({ layers: 1, dModel: 10, heads: 4, context: 8 })).data(text())
      .optimizer(sgd({ lr: 0.1 })).base(allReduce()),
  );
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.path, "model.heads");
  assert.match(issues[0]!.message, /dModel 10 is not a multiple of heads 4/);
});

Deno.test("sizes must be positive integers within bounds", () => {
  const issues = compileIssues(
    train(transformer({ layers: 0, dModel: 8.5, heads: 2, context: 8, mlpRatio: 0 }))
      .data(text()).optimizer(sgd({ lr: 0.1 })).base(allReduce()),
  );
  const paths = issues.map((issue) => issue.path);
  assert.ok(paths.includes("model.layers"), paths.join());
  assert.ok(paths.includes("model.dModel"), paths.join());
  assert.ok(paths.includes("model.mlpRatio"), paths.join());
});

Deno.test("a transformer on images, an mlp on text, a custom model on text: compile() says why", () => {
  const on = (pipeline: Pipeline<true, undefined, undefined>) =>
    compileIssues(pipeline.optimizer(sgd({ lr: 0.1 })).base(allReduce()));
  const images = on(train(tiny()).data(mnist()));
  assert.equal(images.length, 1);
  assert.equal(images[0]!.path, "model");
  assert.equal(
    images[0]!.message,
    "transformer is a language model but mnist data is for classification",
  );
  const mlpOnText = on(train(mlp({ hidden: [8] })).data(text()));
  assert.equal(mlpOnText.length, 1);
  assert.equal(
    mlpOnText[0]!.message,
    "mlp is a classification model but text data is for language modelling",
  );
  const customOnText = on(train(custom({ module: "./m.ts" })).data(text()));
  assert.equal(customOnText.length, 1);
  assert.equal(customOnText[0]!.path, "model");
  assert.match(customOnText[0]!.message, /text data is token sequences.*transformer\(\)/);
});
