/**
 * What the exponential-graph paper leads us to expect (Ying et al. 2021): consensus follows the
 * spectral gap (the ring's is the smallest, so its models drift furthest apart and its accuracy
 * is lowest), and the one-peer exponential graph sends 1/log2(n) of the static one's bytes.
 *
 * @module
 */
import { check, type Expectations, percent, row } from "../../../report/expectations.ts";

const expectations: Expectations = (rows) => {
  const ring = row(rows, "ring");
  const others = ["torus", "exponential", "one_peer_exponential"].map((name) => row(rows, name));
  const ratio = row(rows, "one_peer_exponential").trainingBytesPerStep /
    row(rows, "exponential").trainingBytesPerStep;
  return [
    check(
      "the ring (smallest spectral gap) has the largest consensus distance",
      others.every((other) => other.consensusDistance! < ring.consensusDistance!),
      [ring, ...others].map((r) => `${r.name} ${r.consensusDistance?.toFixed(3)}`).join(", "),
    ),
    check(
      "the ring has the lowest accuracy",
      others.every((other) => other.finalAccuracy! >= ring.finalAccuracy!),
      [ring, ...others].map((r) => `${r.name} ${percent(r.finalAccuracy)}`).join(", "),
    ),
    check(
      "one-peer exponential sends 1/log2(16) = 1/4 of exponential's bytes per step (within 1%)",
      Math.abs(ratio - 0.25) <= 0.0025,
      `ratio ${ratio.toFixed(4)}`,
    ),
  ];
};
export default expectations;
