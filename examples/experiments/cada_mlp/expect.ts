/**
 * What the CADA paper leads us to expect (Chen et al. 2021): communication-adaptive Adam reaches
 * the same training loss as distributed Adam with fewer uploads, skipping a large share of them.
 *
 * @module
 */
import { check, type Expectations, row } from "../../../report/expectations.ts";

const expectations: Expectations = (rows) => {
  const adam = row(rows, "adam");
  const cada1 = row(rows, "cada1_c1");
  const cada2 = row(rows, "cada2_c1");
  const uploads = (value: number | null) => value === null ? "never" : String(value);
  const fewer = (name: string, value: number | null) =>
    check(
      `${name} reaches the target training loss with fewer uploads than distributed Adam`,
      value !== null && adam.uploadsToTargetLoss !== null && value < adam.uploadsToTargetLoss,
      `${uploads(value)} vs ${uploads(adam.uploadsToTargetLoss)}`,
    );
  return [
    fewer("CADA2 (c 1)", cada2.uploadsToTargetLoss),
    fewer("CADA1 (c 1)", cada1.uploadsToTargetLoss),
    check(
      "CADA2 (c 1) skips more than half of the uploads",
      cada2.skipRate > 0.5,
      `${(100 * cada2.skipRate).toFixed(1)}% skipped`,
    ),
  ];
};
export default expectations;
