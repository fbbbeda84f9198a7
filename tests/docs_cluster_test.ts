/**
 * docs/cluster.md's commands, run as written: the `gossamer slurm` lines (the script they write
 * is the one the document then submits), and the `gossamer k8s` line, whose objects the
 * document's `kubectl` lines must find by their label and namespace. A stand-in
 * `sbatch` answers `--submit`; nothing is submitted or applied anywhere.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { parseAllDocuments } from "../deps/yaml.ts";
import { gossamerIn, ROOT } from "./_cli.ts";

const cluster = await Deno.readTextFile(new URL("docs/cluster.md", ROOT));

/** docs/cluster.md's shell lines that start with `prefix`. */
function commandLines(prefix: string): string[] {
  const blocks = [...cluster.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
  return blocks.flatMap((block) => block.split("\n")).filter((line) => line.startsWith(prefix));
}

/**
 * The gossamer arguments of a document's line (after `deno task gossamer`, before `&&`, `|` or a
 * comment), with files of the repository given as absolute paths so they can run elsewhere.
 */
function gossamerArgs(line: string): string[] {
  const command = line.replace(/^deno task gossamer /, "").split(/\s+(?:&&|\||#)\s/)[0]!;
  return command.trim().split(/\s+/).map((word) => {
    const file = new URL(word, ROOT);
    return /^[\w./-]+\.(ts|json)$/.test(word) && Deno.statSync(file).isFile
      ? fromFileUrl(file)
      : word;
  });
}

Deno.test("docs/cluster.md's slurm commands write the script it submits, and --submit prints the job id", async () => {
  const lines = commandLines("deno task gossamer slurm ");
  assert.equal(lines.length, 3, lines.join("\n"));
  const dir = await Deno.makeTempDir({ prefix: "gossamer_docs_slurm_" });
  try {
    const bin = `${dir}/bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(`${bin}/sbatch`, "#!/bin/sh\nprintf '77\\n'\n", { mode: 0o755 });
    for (const line of lines) {
      const args = gossamerArgs(line);
      const result = await gossamerIn({ cwd: dir, env: { PATH: bin } }, ...args, "--force");
      assert.equal(result.code, 0, `${line}\n${result.stderr}`);
      const submitted = /&& sbatch (\S+)$/.exec(line)?.[1];
      if (submitted !== undefined) {
        assert.ok(Deno.statSync(`${dir}/${submitted}`).isFile, `${submitted} is what was written`);
      }
      if (args.includes("--submit")) assert.match(result.stdout, /Submitted batch job 77/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("docs/cluster.md's k8s command prints objects its kubectl lines find", async () => {
  const [line, ...others] = commandLines("deno task gossamer k8s ");
  assert.ok(line !== undefined && others.length === 0);
  assert.match(line, /\| kubectl apply -f -$/);
  const result = await gossamerIn({ cwd: "/" }, ...gossamerArgs(line));
  assert.equal(result.code, 0, result.stderr);
  const objects = parseAllDocuments(result.stdout).map((document) => document.toJS());
  const image = /--image (\S+)/.exec(line)![1];
  // The image the document builds is the one the Job runs.
  assert.ok(commandLines("docker build ")[0]!.includes(`-t ${image} `));

  const [get, remove] = commandLines("kubectl ");
  for (const kubectl of [get!, remove!]) {
    const namespace = /-n (\S+)/.exec(kubectl)![1];
    const [key, value] = /-l (\S+)=(\S+)/.exec(kubectl)!.slice(1);
    for (const object of objects) {
      assert.equal(object.metadata.namespace, namespace, object.kind);
      assert.equal(object.metadata.labels[key!], value, object.kind);
    }
  }
  // The delete line names every kind there is, so it leaves nothing behind.
  const kinds = /delete (\S+)/.exec(remove!)![1]!.split(",").sort();
  assert.deepEqual(kinds, objects.map((object) => object.kind.toLowerCase()).sort());
  // The pods it lists are the Job's.
  const job = objects.find((object) => object.kind === "Job");
  const [key, value] = /-l (\S+)=(\S+)/.exec(get!)!.slice(1);
  assert.equal(job.spec.template.metadata.labels[key!], value);
});
