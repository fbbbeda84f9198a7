import assert from "node:assert/strict";

const version = (await Deno.readTextFile(new URL("../.deno-version", import.meta.url))).trim();
const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));

Deno.test("the README's two set-up commands use the pinned Deno and existing tasks", () => {
  assert.match(version, /^\d+\.\d+\.\d+$/);
  assert.ok(readme.includes(`npx -y deno@${version} task demo`));
  assert.ok(readme.includes(`npx -y deno@${version} task test`));
  assert.ok(readme.includes(`Deno ${version}`));
  assert.equal(typeof config.tasks.demo, "string");
  assert.match(config.tasks.test, /deno fmt --check/);
  assert.match(config.tasks.test, /deno lint/);
  assert.match(config.tasks.test, /deno check/);
  assert.match(config.tasks.test, /deno test .*--doc/);
});

Deno.test("the running Deno is the pinned one", () => {
  assert.equal(Deno.version.deno, version);
});
