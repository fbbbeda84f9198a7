/**
 * The README and docs/ stay short, linked and runnable: the README is about 150 readable lines,
 * every relative link of README.md and docs/*.md reaches a file (and a heading, for `#anchors`),
 * every command of a shell block is one the CLI, `deno task` or the repository accepts (parsed
 * with the real command tree, run nowhere), the README's pipeline is `examples/quickstart.ts`,
 * and docs/cli.md's reference is the commands' current `--help`.
 */

import assert from "node:assert/strict";
import { acceptsCommand, CLI_DOCUMENT, cliBlock, withCliBlock } from "../scripts/cli_reference.ts";

const ROOT = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));

/** README.md and every Markdown file of docs/ (not the generated API reference), by path. */
async function documents(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  found.set("README.md", await Deno.readTextFile(new URL("README.md", ROOT)));
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) {
      found.set(`docs/${entry.name}`, await Deno.readTextFile(new URL(`docs/${entry.name}`, ROOT)));
    }
  }
  return found;
}

/** The text without its fenced code blocks, whose `#` lines and brackets are not Markdown. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```$/gm, "");
}

/**
 * The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces as
 * hyphens, and `-1`, `-2`, … after a repeated one.
 */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of withoutCode(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = heading!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(
      /\s/g,
      "-",
    );
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Every link and image target of a document, outside code. */
function linkTargets(markdown: string): string[] {
  const text = withoutCode(markdown).replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^()\s]+)\)/g)].map((match) => match[1]!);
}

/** The lines of a document's `sh` blocks, with `\` continuations joined and comments dropped. */
function shellLines(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  return blocks.flatMap((block) => block.replace(/\\\n\s*/g, "").split("\n"))
    .map((line) => line.replace(/(^|\s)#\s.*$/, "").trim())
    .filter((line) => line !== "");
}

Deno.test("the README is about 150 lines, none wider than 120 characters", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const lines = readme.trimEnd().split("\n");
  assert.ok(lines.length <= 160, `README.md has ${lines.length} lines`);
  const wide = lines.filter((line) => line.length > 120);
  assert.deepEqual(wide, [], "README lines over 120 characters");
});

Deno.test("the README's pipeline is examples/quickstart.ts", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const example = await Deno.readTextFile(new URL("examples/quickstart.ts", ROOT));
  const firstBlock = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const body = (code: string) => code.slice(code.indexOf("export default"));
  assert.equal(body(firstBlock), body(example));
});

Deno.test("every relative link of README.md and docs/*.md reaches a file and its heading", async () => {
  const docs = await documents();
  const broken: string[] = [];
  let checked = 0;
  for (const [path, markdown] of docs) {
    for (const target of linkTargets(markdown)) {
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:: not checked offline
      checked++;
      const [file, anchor] = target.split("#") as [string, string | undefined];
      const url = file === "" ? new URL(path, ROOT) : new URL(file, new URL(path, ROOT));
      const relative = url.pathname.slice(new URL(ROOT).pathname.length);
      let text: string | undefined;
      try {
        text = docs.get(relative) ?? await Deno.readTextFile(url);
      } catch {
        broken.push(`${path}: ${target} (no such file)`);
        continue;
      }
      if (anchor !== undefined && !anchorsOf(text).has(anchor)) {
        broken.push(`${path}: ${target} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked >= 40, `only ${checked} links were checked`);
});

Deno.test("the anchors are GitHub's", () => {
  const anchors = anchorsOf(
    "# A b\n## The `--launch none` secret file\n```sh\n# not a heading\n```\n## A b\n### `gossamer run`",
  );
  assert.deepEqual([...anchors], ["a-b", "the---launch-none-secret-file", "a-b-1", "gossamer-run"]);
});

/**
 * Why a shell command of the documents would not run as written, or `undefined` when it would:
 * `deno task` names a task, `gossamer` commands parse with the real command tree, and scripts
 * and repository files it names exist. Other programs (`srun`, `kubectl`, …) are not checked.
 */
async function problemOf(command: string): Promise<string | undefined> {
  // A placeholder such as `<this host>` is one word; redirections (`> file`, `2>&1`) are the shell's.
  command = command.replace(/<[^<>]*>/g, (placeholder) => placeholder.replace(/\s/g, "_"))
    .replace(/\s+\d?>>?\s*(&\d|\S+)/g, "").replace(/\s+<\s\S+/g, "");
  const words = command.split(/\s+/);
  const gossamerAt = (index: number) => words.slice(index);
  let args: string[] | undefined;
  const task = /^(?:npx -y deno@[\d.]+ |deno )task (\S+)/.exec(command)?.[1];
  if (task !== undefined) {
    if (typeof config.tasks[task] !== "string") return `no task "${task}" in deno.json`;
    if (task === "gossamer") args = gossamerAt(words.indexOf("gossamer") + 1);
  } else if (/^deno run (?:-\S+ )*cli\.ts\b/.test(command)) {
    args = gossamerAt(words.indexOf("cli.ts") + 1);
  } else {
    const script = /^(?:deno run (?:-\S+ )*|sh |bash )(\S+\.(?:ts|sh))/.exec(command)?.[1];
    // Scripts of the repository are checked; a user's own (`deno run -A pipeline.ts`) is not.
    if (script !== undefined && /^(examples|bench|scripts|tests|runtime|cli|\.ci)\//.test(script)) {
      return (await exists(script)) ? undefined : `${script} does not exist`;
    }
    return undefined;
  }
  if (args === undefined) return undefined;
  for (const word of args) {
    if (/^(examples|bench|scripts|tests)\/[\w./-]+$/.test(word) && !(await exists(word))) {
      return `${word} does not exist`;
    }
  }
  const { accepted, message } = await acceptsCommand(args);
  return accepted ? undefined : message;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(new URL(path, ROOT));
    return true;
  } catch {
    return false;
  }
}

Deno.test("every command in the shell blocks of README.md and docs/*.md is one the CLI accepts", async () => {
  const problems: string[] = [];
  let gossamerCommands = 0;
  for (const [path, markdown] of await documents()) {
    for (const line of shellLines(markdown)) {
      // Each command of a line: `a && b`, `a | b`, `a; b`.
      for (const command of line.split(/\s+(?:&&|\||;)\s+/).map((part) => part.trim())) {
        if (/^(npx -y deno@[\d.]+ |deno )task gossamer |^deno run .*cli\.ts /.test(command)) {
          gossamerCommands++;
        }
        const problem = await problemOf(command);
        if (problem !== undefined) problems.push(`${path}: ${command}\n  ${problem}`);
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(gossamerCommands >= 10, `only ${gossamerCommands} gossamer commands were checked`);
});

Deno.test("the command check refuses what the CLI refuses", async () => {
  assert.equal(
    await problemOf("deno task gossamer run examples/quickstart.ts --steps 5"),
    undefined,
  );
  assert.match(
    (await problemOf("deno task gossamer run examples/quickstart.ts --stepz 5"))!,
    /--stepz/,
  );
  assert.match((await problemOf("deno task gossamer plan examples/nowhere.ts"))!, /does not exist/);
  assert.match((await problemOf("deno task gossamer k8s x.ts --workers 2"))!, /--image/);
  assert.match((await problemOf("deno task nowhere"))!, /no task "nowhere"/);
  assert.match((await problemOf("deno run -A bench/nowhere.ts"))!, /does not exist/);
});

Deno.test(`${CLI_DOCUMENT} shows every command's current --help`, async () => {
  const text = await Deno.readTextFile(new URL(CLI_DOCUMENT, ROOT));
  assert.ok(
    withCliBlock(text, await cliBlock()) === text,
    `${CLI_DOCUMENT} is out of date: run \`deno task docs:generate\``,
  );
});

Deno.test("deno task docs builds the API reference of every entry point", () => {
  const task: string = config.tasks.docs;
  assert.match(task, /deno doc --html /);
  for (const entry of Object.values(config.exports) as string[]) {
    assert.ok(task.includes(` ${entry.replace(/^\.\//, "")}`), `${entry} is not in the docs task`);
  }
});
