/**
 * What the DQ-SGD paper leads us to expect (Yan et al. 2021): at the same average bits, choosing
 * the width per step is equal to or better than a fixed QSGD width.
 *
 * @module
 */
import { check, type Expectations, percent, row } from "../../../report/expectations.ts";

const expectations: Expectations = (rows) =>
  [2, 4, 8].flatMap((bits) => {
    const fixed = row(rows, `qsgd_${bits}bits`);
    const dynamic = row(rows, `dqsgd_${bits}bits`);
    const ratio = dynamic.trainingBytesPerStep / fixed.trainingBytesPerStep;
    return [
      check(
        `DQ-SGD at ${bits} bits on average is equal or better than QSGD at ${bits} bits`,
        dynamic.finalAccuracy! >= fixed.finalAccuracy!,
        `${percent(dynamic.finalAccuracy)} vs ${percent(fixed.finalAccuracy)}`,
      ),
      check(
        `DQ-SGD spends the same bytes as QSGD at ${bits} bits (within 2%)`,
        Math.abs(ratio - 1) <= 0.02,
        `${(100 * (ratio - 1)).toFixed(2)}%`,
      ),
    ];
  });
export default expectations;
