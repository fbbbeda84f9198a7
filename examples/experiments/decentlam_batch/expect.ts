/**
 * What the DecentLaM paper leads us to expect (Yuan et al. 2021): on heterogeneous data, DmSGD's
 * gap to all-reduce grows with the batch size and DecentLaM's does not.
 *
 * @module
 */
import { check, type Expectations, row } from "../../../report/expectations.ts";

const expectations: Expectations = (rows) => {
  const gap = (name: string, batch: number) =>
    row(rows, `all_reduce_b${batch}`).finalAccuracy! -
    row(rows, `${name}_b${batch}`).finalAccuracy!;
  const points = (value: number) => `${(100 * value).toFixed(2)} points`;
  const [dm32, dm512] = [gap("dmsgd", 32), gap("dmsgd", 512)];
  const [lam32, lam512] = [gap("decentlam", 32), gap("decentlam", 512)];
  return [
    check(
      "DmSGD's gap to all-reduce grows from batch 32 to 512",
      dm512 > dm32,
      `${points(dm32)} → ${points(dm512)}`,
    ),
    check(
      "DecentLaM's gap to all-reduce does not grow (within half a point)",
      lam512 <= lam32 + 0.005,
      `${points(lam32)} → ${points(lam512)}`,
    ),
    check(
      "DecentLaM is closer to all-reduce than DmSGD at the large batch",
      lam512 < dm512,
      `${points(lam512)} vs ${points(dm512)}`,
    ),
  ];
};
export default expectations;
