import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_MARKERS, projectRoot, relativeFileRefs } from "./run_folder.ts";
import { allReduce, custom, leastSquares, mnist, sgd, train } from "../../mod.ts";
import type { Plan } from "../../mod.ts";

/** A plan naming one shard file. */
function withData(file: string): Plan {
  return train(custom({ module: "/lib/model.ts" })).data(leastSquares({ file })).workers(4)
    .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
}

/** The files a stored plan names: `[model module, data file]`. */
function refs(plan: Plan): [string | null, string | null] {
  return [
    plan.model.kind === "custom" ? plan.model.module : null,
    plan.data.kind === "leastSquares" ? plan.data.file : null,
  ];
}

/** Runs `use` on a fresh temporary folder, removed afterwards. */
async function inTemp(use: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_project_" });
  try {
    await use(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a file inside the project is stored relative to the plan file, any other absolute", () => {
  const inside = withData("/home/u/project/data/s.json");
  assert.deepEqual(
    refs(relativeFileRefs(inside, "/home/u/project/runs/one", "/home/u/project")),
    ["/lib/model.ts", "../../data/s.json"],
  );
  // Next to the project, in the same parent folder: still outside it, so absolute.
  const beside = withData("/home/u/other/data/s.json");
  assert.deepEqual(
    refs(relativeFileRefs(beside, "/home/u/project/runs/one", "/home/u/project")),
    ["/lib/model.ts", "/home/u/other/data/s.json"],
  );
  // A run folder in a temporary folder, outside the project whose data it names.
  assert.deepEqual(
    refs(relativeFileRefs(inside, "/tmp/run", "/tmp/run")),
    ["/lib/model.ts", "/home/u/project/data/s.json"],
  );
  // A name that only starts like the project's folder is not inside it.
  assert.deepEqual(
    refs(
      relativeFileRefs(withData("/home/u/project2/s.json"), "/home/u/project", "/home/u/project"),
    ),
    ["/lib/model.ts", "/home/u/project2/s.json"],
  );
  // URLs and references already relative stay as they are; a plan naming no files is unchanged.
  const url = withData("https://example.com/s.json");
  assert.deepEqual(
    refs(relativeFileRefs(url, "/p/runs/one", "/p"))[1],
    "https://example.com/s.json",
  );
  const noFiles = train(custom({ module: "./m.ts" })).data(mnist()).optimizer(sgd({ lr: 0.1 }))
    .base(allReduce()).compile();
  assert.deepEqual(refs(relativeFileRefs(noFiles, "/p/runs/one", "/p")), ["./m.ts", null]);
});

Deno.test("a folder's project is the nearest folder at or above it that holds a marker", async (t) => {
  for (const marker of PROJECT_MARKERS) {
    await t.step(marker, () =>
      inTemp(async (dir) => {
        const project = join(dir, "project");
        await Deno.mkdir(join(project, "runs", "one"), { recursive: true });
        if (marker === ".git") await Deno.mkdir(join(project, marker));
        else await Deno.writeTextFile(join(project, marker), "{}\n");
        assert.equal(projectRoot(join(project, "runs", "one")), project);
        assert.equal(projectRoot(project), project);
        // A folder that does not exist yet lies in the project too.
        assert.equal(projectRoot(join(project, "runs", "two", "three")), project);
        // The nearest marker wins: a project nested in another is its own.
        await Deno.writeTextFile(join(project, "runs", "deno.json"), "{}\n");
        assert.equal(projectRoot(join(project, "runs", "one")), join(project, "runs"));
      }));
  }
});

Deno.test("a folder in no project is its own project", () =>
  inTemp(async (dir) => {
    const folder = join(dir, "a", "b");
    await Deno.mkdir(folder, { recursive: true });
    const root = projectRoot(folder);
    // Nothing in `dir` marks a project, so the project is the folder itself, unless the
    // temporary folder itself lies in a project: then that project's root, above `dir`.
    if (root !== folder) {
      assert.ok(dir.startsWith(root === "/" ? "/" : `${root}/`), `${root} is not above ${dir}`);
      const markers = await Promise.all(
        PROJECT_MARKERS.map((name) => Deno.lstat(join(root, name)).then(() => true, () => false)),
      );
      assert.ok(markers.includes(true), `${root} holds no marker`);
    }
  }));
