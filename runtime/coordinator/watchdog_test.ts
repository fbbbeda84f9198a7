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

/**
 * Runs a watchdog (limit 40 ms) on a clock that moves 5 ms per tick, whatever the load on the
 * machine (it reads lastHeard once per tick), for `ticks` ticks; a message arrives at tick
 * `heardAt`, if given.
 *
 * @returns What the watchdog failed with.
 */
async function steppedWatchdog(ticks: number, heardAt?: number): Promise<string[]> {
  const messages: string[] = [];
  let tick = 0;
  let now = 0;
  let heard = 0;
  const stop = startWatchdog({
    limitMs: 40,
    checkEveryMs: 5,
    now: () => now,
    lastHeard: () => {
      tick++;
      now += 5;
      if (tick === heardAt) heard = now;
      return heard;
    },
    describe: (ms) => `silent for ${ms} ms`,
    fail: (message) => messages.push(message),
  });
  while (tick < ticks) await sleep(2);
  stop();
  return messages;
}

Deno.test("the limit grows with the longest gap between messages", async () => {
  // A message at tick 8 ends a gap of 30 ms: the limit becomes 10 × 30 ms. Then 100 ms of
  // silence: past the first limit of 40 ms, under the grown one.
  assert.deepEqual(await steppedWatchdog(8 + 20, 8), []);
  assert.equal(GAP_FACTOR, 10);
});

Deno.test("without a longer gap, the same silence fails at the first limit", async () => {
  assert.deepEqual(await steppedWatchdog(20), ["silent for 40 ms"]);
});
