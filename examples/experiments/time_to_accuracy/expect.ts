/**
 * The claim of the whole field: on a slow network, a communication-efficient plan reaches the
 * same accuracy far sooner than all-reduce SGD. Target (issue 12): the best plan at least 5×
 * faster to 90% test accuracy.
 *
 * @module
 */
import { check, type Expectations, row } from "../../../report/expectations.ts";

const expectations: Expectations = (rows) => {
  const baseline = row(rows, "all_reduce").timeToTargetMs;
  const others = Object.values(rows).filter((other) =>
    other.name !== "all_reduce" && other.timeToTargetMs !== null
  );
  const best = others.reduce(
    (a, b) => (a === null || b.timeToTargetMs! < a.timeToTargetMs! ? b : a),
    null as (typeof others)[number] | null,
  );
  const speedup = baseline === null || best === null ? 0 : baseline / best.timeToTargetMs!;
  return [
    check(
      "the best communication-efficient plan reaches 90% at least 5× sooner than all-reduce",
      speedup >= 5,
      best === null || baseline === null
        ? "a plan never reached 90%"
        : `${best.name} ${(best.timeToTargetMs! / 1000).toFixed(2)} s vs all-reduce ${
          (baseline / 1000).toFixed(2)
        } s: ${speedup.toFixed(1)}×`,
    ),
  ];
};
export default expectations;
