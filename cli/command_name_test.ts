import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { RunError } from "../runtime/run_types.ts";
import { commandName, resumeHint } from "./command_name.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));

Deno.test("inside the repository the command is `deno task gossamer`; elsewhere `gossamer`", async () => {
  assert.equal(commandName(ROOT), "deno task gossamer");
  assert.equal(commandName(`${ROOT}runtime/coordinator`), "deno task gossamer");
  const elsewhere = await Deno.makeTempDir();
  try {
    assert.equal(commandName(elsewhere), "gossamer");
    // A sibling whose name starts with the repository's is not inside it.
    assert.equal(commandName(`${ROOT.replace(/\/$/, "")}-copy`), "gossamer");
  } finally {
    await Deno.remove(elsewhere);
  }
});

Deno.test("the resume hint names the newest checkpoint plainly, an older one with --from", () => {
  const newest = new RunError(
    "Worker 1 died\nThe newest checkpoint is after 8 steps",
    "/r/x",
    false,
    {
      resumable: { step: 8, newest: true },
    },
  );
  assert.equal(resumeHint(newest, "/"), "\nContinue with: gossamer resume /r/x");
  assert.equal(resumeHint(newest, ROOT), "\nContinue with: deno task gossamer resume /r/x");
  const older = new RunError("damaged", "/r/x", false, { resumable: { step: 4, newest: false } });
  assert.equal(
    resumeHint(older, "/"),
    "\nContinue from it with: gossamer resume /r/x --from 4 (or --fallback)",
  );
  assert.equal(resumeHint(new RunError("diverged", "/r/x"), "/"), "");
});
