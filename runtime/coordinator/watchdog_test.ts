import assert from "node:assert/strict";
import { GAP_FACTOR, startWatchdog } from "./watchdog.ts";

/** Waits `ms` milliseconds. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("the watchdog fails a silent run once, naming the limit", async () => {
  const messages: string[] = [];
  const heard = performance.now();
  const stop = startWatchdog({
    limitMs: 60,
    checkEveryMs: 10,
    lastHeard: () => heard,
    describe: (ms) => `silent for ${ms} ms`,
    fail: (message) => messages.push(message),
  });
  await sleep(500);
  stop();
  assert.deepEqual(messages, ["silent for 60 ms"]);
});

Deno.test("time the coordinator itself was stopped is not the workers' silence", async () => {
  const messages: string[] = [];
  const heard = performance.now();
  const stop = startWatchdog({
    limitMs: 80,
    checkEveryMs: 10,
    lastHeard: () => heard,
    describe: (ms) => `silent for ${ms} ms`,
    fail: (message) => messages.push(message),
  });
  // Block the event loop for longer than the limit, as a paused process would be.
  const until = performance.now() + 150;
  while (performance.now() < until) { /* busy: no tick runs */ }
  await sleep(25);
  stop();
  assert.deepEqual(messages, [], "the pause did not count");
});

Deno.test("the limit grows with the longest gap between messages", async () => {
  const messages: string[] = [];
  let heard = performance.now();
  const stop = startWatchdog({
    limitMs: 40,
    checkEveryMs: 5,
    lastHeard: () => heard,
    describe: (ms) => `silent for ${ms} ms`,
    fail: (message) => messages.push(message),
  });
  await sleep(30); // a 30 ms gap: the limit becomes 10 × 30 ms
  heard = performance.now();
  await sleep(100); // well past 40 ms, well under 300 ms
  stop();
  assert.deepEqual(messages, []);
  assert.equal(GAP_FACTOR, 10);
});
