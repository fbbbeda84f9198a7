import assert from "node:assert/strict";
import {
  customTopology,
  exponential,
  onePeerExponential,
  ring,
  star,
  topologySvg,
  torus,
} from "./mod.ts";

/** A crude well-formedness check: tags nest properly and attributes are quoted. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, []);
  // Every "<" starts a tag the pattern above recognised.
  const tags = svg.match(/</g)?.length ?? 0;
  const recognised = [...svg.matchAll(/<\/?[a-zA-Z][\w-]*(?:\s+[\w:-]+="[^"<]*")*\s*\/?>/g)].length;
  assert.equal(recognised, tags);
}

Deno.test("topologySvg draws one circle per rank with a title", () => {
  for (const n of [1, 2, 5, 8, 16]) {
    const svg = topologySvg(ring(), n);
    assert.ok(svg.startsWith("<svg"));
    assert.ok(svg.trimEnd().endsWith("</svg>"));
    assert.equal(svg.match(/<circle /g)?.length, n);
    assertWellFormed(svg);
  }
  const svg = topologySvg(ring(), 8);
  assert.match(svg, /<title>ring, n = 8, step 0, spectral gap 0\.195<\/title>/);
});

Deno.test("topologySvg: undirected edges are lines, directed ones arrows", () => {
  const ringSvg = topologySvg(ring(), 6);
  assert.equal(ringSvg.match(/class="edge"/g)?.length, 6);
  assert.ok(!ringSvg.includes('marker-end="url(#arrow)"'));
  // Exponential on 8: edges i − 1, i − 2, i − 4; only ±4 are mutual (8 rank pairs → 4 lines).
  const expSvg = topologySvg(exponential(), 8);
  assert.equal(expSvg.match(/marker-end="url\(#arrow\)"/g)?.length, 16);
  assert.equal(expSvg.match(/class="edge"/g)?.length, 4);
  assertWellFormed(expSvg);
});

Deno.test("topologySvg lays a torus out on its grid and names the step", () => {
  const svg = topologySvg(torus({ rows: 2, cols: 4 }), 8);
  const xs = new Set([...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => m[1]));
  const ys = new Set([...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => m[1]));
  assert.equal(xs.size, 4);
  assert.equal(ys.size, 2);
  assert.match(topologySvg(onePeerExponential(), 8, 2), /step 2, spectral gap 0\.000/);
  assertWellFormed(topologySvg(star(), 5));
});

Deno.test("topologySvg escapes custom names", () => {
  const svg = topologySvg(customTopology([[1]], { name: 'a<b & "c"' }), 1);
  assert.ok(svg.includes("custom a&lt;b &amp; &quot;c&quot;"));
  assertWellFormed(svg);
});
