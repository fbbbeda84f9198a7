/**
 * What the DiLoCo paper leads us to expect (Douillard et al. 2023): local AdamW for tau steps with
 * an outer Nesterov step on the averaged pseudo-gradient stays close to data-parallel AdamW at
 * the same number of inner steps while sending tau-fold fewer bytes, so on a slow network it
 * reaches a target loss sooner; and the outer step beats plain periodic averaging.
 *
 * @module
 */
import { check, type Expectations, row } from "../../../report/expectations.ts";

const expectations: Expectations = (rows) => {
  const baseline = row(rows, "all_reduce_adamw");
  const local = row(rows, "local_adamw_20");
  const bits = (name: string) => row(rows, name).finalBitsPerToken ?? Infinity;
  const seconds = (ms: number | null) => ms === null ? "never" : `${(ms / 1000).toFixed(1)} s`;
  const gap = (name: string) => bits(name) / bits("all_reduce_adamw") - 1;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const checks = [];
  for (
    const [name, tau] of [["diloco_20", 20], ["diloco_20_m05", 20], ["diloco_50", 50]] as const
  ) {
    const diloco = row(rows, name);
    checks.push(
      check(
        `${name}: final validation bits within 5% of all-reduce AdamW's`,
        gap(name) <= 0.05,
        `${bits(name).toFixed(3)} vs ${bits("all_reduce_adamw").toFixed(3)} (${pct(gap(name))})`,
      ),
      check(
        `${name}: at least ${tau}-fold fewer bytes than all-reduce AdamW (within 10%)`,
        baseline.trainingBytes / diloco.trainingBytes >= 0.9 * tau,
        `${(baseline.trainingBytes / diloco.trainingBytes).toFixed(1)}× fewer`,
      ),
      check(
        `${name}: reaches the target bits per token sooner in simulated time`,
        diloco.timeToTargetBitsMs !== null &&
          (baseline.timeToTargetBitsMs === null ||
            diloco.timeToTargetBitsMs < baseline.timeToTargetBitsMs),
        `${seconds(diloco.timeToTargetBitsMs)} vs ${seconds(baseline.timeToTargetBitsMs)}`,
      ),
    );
  }
  for (const name of ["diloco_20", "diloco_20_m05"]) {
    checks.push(check(
      `${name}: the outer step helps: lower final bits than local AdamW at the same tau`,
      bits(name) < bits("local_adamw_20"),
      `${bits(name).toFixed(3)} vs ${local.finalBitsPerToken?.toFixed(3)}`,
    ));
  }
  return checks;
};
export default expectations;
