/**
 * What the Sketched SGD paper leads us to expect (Ivkin et al. 2019): with 5 rows, Sketched SGD
 * stays within 1 point of uncompressed all-reduce while each worker sends 10× fewer bytes.
 *
 * @module
 */
import { check, type Expectations, percent, row } from "../../../report/expectations.ts";

const expectations: Expectations = (rows) => {
  const reference = row(rows, "all_reduce");
  return ["sketched_p2_4", "sketched_p2_0"].flatMap((name) => {
    const sketched = row(rows, name);
    const fewer = reference.trainingBytesPerStep / sketched.trainingBytesPerStep;
    return [
      check(
        `${name} is within 1 point of all-reduce's accuracy`,
        sketched.finalAccuracy! >= reference.finalAccuracy! - 0.01,
        `${percent(sketched.finalAccuracy)} vs ${percent(reference.finalAccuracy)}`,
      ),
      check(
        `${name} sends 10× or more fewer bytes per worker`,
        fewer >= 10,
        `${fewer.toFixed(1)}× fewer`,
      ),
    ];
  });
};
export default expectations;
