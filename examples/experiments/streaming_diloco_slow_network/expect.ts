/**
 * What the Streaming DiLoCo paper leads us to expect (Douillard et al. 2025): syncing the model in
 * fragments that take turns keeps DiLoCo's loss while dividing the peak bytes of a sync by the
 * number of fragments; with 4-bit pseudo-gradients and the sync overlapped with computation, the
 * run also takes less time.
 *
 * @module
 */
import { check, type Expectations, row } from "../../../report/expectations.ts";

/** DiLoCo's outer syncs in the run: 200 steps at tau 20. */
const DILOCO_SYNCS = 10;

const expectations: Expectations = (rows) => {
  const diloco = row(rows, "diloco_20");
  const bits = (name: string) => row(rows, name).finalBitsPerToken ?? Infinity;
  const dilocoPeak = diloco.trainingBytes / DILOCO_SYNCS;
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const checks = [];
  for (const name of ["streaming_p4", "streaming_p4_balanced", "streaming_p4_o1_b4"]) {
    checks.push(check(
      `${name}: about DiLoCo's loss (within 2%)`,
      bits(name) <= 1.02 * bits("diloco_20"),
      `${bits(name).toFixed(3)} vs ${bits("diloco_20").toFixed(3)} bits/token`,
    ));
  }
  for (const name of ["streaming_p4", "streaming_p4_balanced"]) {
    const peak = row(rows, name).peakSyncBytes ?? Infinity;
    checks.push(check(
      `${name}: peak bytes of a sync about DiLoCo's divided by the 4 fragments (at most 0.3×)`,
      peak <= 0.3 * dilocoPeak,
      `${kib(peak)} vs ${kib(dilocoPeak)} (${(peak / dilocoPeak).toFixed(2)}×)`,
    ));
  }
  const overlapped = row(rows, "streaming_p4_o1_b4");
  checks.push(check(
    "with overlap 1 and 4 bits: less simulated time than DiLoCo",
    overlapped.timeMs < diloco.timeMs,
    `${(overlapped.timeMs / 1000).toFixed(2)} s vs ${(diloco.timeMs / 1000).toFixed(2)} s`,
  ));
  return checks;
};
export default expectations;
