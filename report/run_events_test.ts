import assert from "node:assert/strict";
import { runEvents } from "./run_events.ts";

/** A fingerprint whose answers the test releases one at a time. */
function gatedFingerprint() {
  const waiting: ((value: string) => void)[] = [];
  let calls = 0;
  return {
    fingerprint: () => {
      calls++;
      return new Promise<string>((resolve) => waiting.push(resolve));
    },
    get calls() {
      return calls;
    },
    /** Answers the oldest pending call. */
    answer(value: string) {
      waiting.shift()!(value);
    },
  };
}

const decode = (chunk: Uint8Array | undefined) => new TextDecoder().decode(chunk);
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("the event stream says update first, then only when a run's files change", async () => {
  const files = gatedFingerprint();
  const open = new Set<() => void>();
  const reader = runEvents(["a"], { fingerprint: files.fingerprint, intervalMs: 1, open })
    .getReader();
  assert.equal(decode((await reader.read()).value), ": following\n\n");
  files.answer("1:-1");
  assert.equal(decode((await reader.read()).value), "event: update\ndata: 1:-1\n\n");
  await tick(10);
  files.answer("1:-1"); // unchanged: nothing is sent
  await tick(10);
  files.answer("2:-1");
  assert.equal(decode((await reader.read()).value), "event: update\ndata: 2:-1\n\n");
  assert.equal(open.size, 1);
  await reader.cancel();
  assert.equal(open.size, 0, "a cancelled stream leaves the open set");
});

Deno.test("a stream closed while a poll reads the files ends quietly and polls no more", async () => {
  const files = gatedFingerprint();
  const open = new Set<() => void>();
  const reader = runEvents(["a"], { fingerprint: files.fingerprint, intervalMs: 1, open })
    .getReader();
  await reader.read(); // ": following"
  files.answer("1:-1");
  await reader.read(); // the first update
  await tick(10); // the timer's poll is now waiting for the files
  assert.equal(files.calls, 2);
  for (const close of open) close(); // as a stopping server does
  assert.equal((await reader.read()).done, true);
  files.answer("2:-1"); // the poll resumes on a closed stream: no error may escape
  await tick(20);
  assert.equal(files.calls, 2, "no poll after the stream closed");
});
