import assert from "node:assert/strict";
import { fetchPreset, mixingMatrix, TopologyFileError } from "./mod.ts";

const PAIR = { name: "pair", weights: [[0.5, 0.5], [0.5, 0.5]] };

/** Serves `routes` (path → body) on 127.0.0.1 while `body(base)` runs; anything else is a 404. */
async function serving(
  routes: Record<string, string>,
  body: (base: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const text = routes[new URL(request.url).pathname];
    return text === undefined ? new Response("no", { status: 404 }) : new Response(text);
  });
  try {
    await body(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("fetchPreset: a preset served on this machine loads as from a file, its source the URL", async () => {
  await serving({ "/pair.json": JSON.stringify(PAIR) }, async (base) => {
    const topology = await fetchPreset(`${base}/pair.json`);
    assert.deepEqual(topology, {
      kind: "custom",
      name: "pair",
      source: `${base}/pair.json`,
      weights: [PAIR.weights],
    });
    assert.deepEqual(mixingMatrix(topology, 2, 5), PAIR.weights);
  });
});

Deno.test("fetchPreset: a missing, invalid or executable preset is refused, naming the URL", async () => {
  await serving({
    "/broken.json": "{ weights: ",
    "/code.json": "export default { weights: [[1]] }",
    "/ragged.json": JSON.stringify({ weights: [[0.5, 0.5], [1]] }),
  }, async (base) => {
    const cases: [string, RegExp][] = [
      ["/gone.json", /: the server answered 404/],
      ["/broken.json", /: invalid JSON: /],
      // A preset is data: JavaScript is not run, it is invalid JSON.
      ["/code.json", /: invalid JSON: /],
      ["/ragged.json", /: weights\[1\] has 1 entry but weights has 2 rows/],
    ];
    for (const [path, detail] of cases) {
      await assert.rejects(fetchPreset(`${base}${path}`), (error: unknown) => {
        assert.ok(error instanceof TopologyFileError);
        assert.equal(error.path, `${base}${path}`);
        assert.match(error.message, detail);
        return true;
      });
    }
  });
});

Deno.test("fetchPreset: https for the world, http only for this machine, no other scheme", async () => {
  await assert.rejects(
    fetchPreset("http://example.com/pair.json"),
    /plain http: is accepted only from this machine \(localhost\); use https:/,
  );
  await assert.rejects(
    fetchPreset("data:application/json,{}"),
    /a preset is fetched from an https: URL, not a data: URL/,
  );
  await assert.rejects(fetchPreset("pair.json"), /not a URL \(a file is loaded with fromFile\)/);
});
