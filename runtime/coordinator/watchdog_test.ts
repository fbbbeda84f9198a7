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
  // The watchdog's clock moves 5 ms per tick (it reads lastHeard once per tick), whatever the
  // load on the machine.
  const messages: string[] = [];
  let ticks = 0;
  let now = 0;
  let heard = 0;
  const stop = startWatchdog({
    limitMs: 40,
    checkEveryMs: 5,
    now: () => now,
    lastHeard: () => {
      ticks++;
      now += 5;
      if (ticks === 8) heard = now; // ends a gap of 30 ms: the limit becomes 10 × 30 ms
      return heard;
    },
    describe: (ms) => `silent for ${ms} ms`,
    fail: (message) => messages.push(message),
  });
  // Then 100 ms of silence: past the first limit of 40 ms, under the grown one.
  while (ticks < 8 + 20) await sleep(2);
  stop();
  assert.deepEqual(messages, []);
  assert.equal(GAP_FACTOR, 10);
});

Deno.test("without a longer gap, the same silence fails at the first limit", async () => {
  const messages: string[] = [];
  let ticks = 0;
  let now = 0;
  const stop = startWatchdog({
    limitMs: 40,
    checkEveryMs: 5,
    now: () => now,
    lastHeard: () => {
      ticks++;
      now += 5;
      return 0;
    },
    describe: (ms) => `silent for ${ms} ms`,
    fail: (message) => messages.push(message),
  });
  while (ticks < 20) await sleep(2);
  stop();
  assert.deepEqual(messages, ["silent for 40 ms"]);
});
