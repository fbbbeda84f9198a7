/**
 * What the Overlap Local-SGD paper leads us to expect (Wang, Liang, Joshi 2020): on a slow
 * network, hiding the average behind computation reaches the target accuracy sooner in time.
 *
 * @module
 */
import { check, type Expectations, row } from "../../../report/expectations.ts";

const expectations: Expectations = (rows) => {
  const local = row(rows, "local_sgd").timeToTargetMs;
  const overlap = row(rows, "overlap_local_sgd").timeToTargetMs;
  const seconds = (ms: number | null) => ms === null ? "never" : `${(ms / 1000).toFixed(2)} s`;
  return [
    check(
      "Overlap Local-SGD reaches the target accuracy sooner in simulated time than local SGD",
      overlap !== null && (local === null || overlap < local),
      `${seconds(overlap)} vs ${seconds(local)}`,
    ),
  ];
};
export default expectations;
