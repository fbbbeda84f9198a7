/**
 * A Web Worker used by the shared-memory tests: one rank of a group in a thread of its own (so
 * its barriers block briefly, as thread workers' do), summing each vector it is sent.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { type SharedArena, SharedReducer } from "./shared_reduce.ts";

self.onmessage = (event: MessageEvent<{ arena: SharedArena; rank: number }>) => {
  const reducer = new SharedReducer(event.data.arena, event.data.rank);
  self.onmessage = async (next: MessageEvent<Float32Array | null>) => {
    if (next.data === null) {
      reducer.close();
      self.close();
      return;
    }
    try {
      self.postMessage(await reducer.sumInPlace(next.data));
    } catch (error) {
      self.postMessage(String(error));
    }
  };
  self.postMessage("ready");
};
