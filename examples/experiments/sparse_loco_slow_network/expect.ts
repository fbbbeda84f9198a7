/**
 * What the SparseLoCo paper leads us to expect (Sarfi et al. 2025): top-k sparsification with
 * 2-bit values and error feedback standing in for the outer momentum matches or beats DiLoCo at
 * equal bytes, and sends far fewer bytes than DiLoCo at the same period.
 *
 * @module
 */
import { check, type Expectations, row } from "../../../report/expectations.ts";

const expectations: Expectations = (rows) => {
  const bits = (name: string) => row(rows, name).finalBitsPerToken ?? Infinity;
  const bytes = (name: string) => row(rows, name).trainingBytes;
  const ratio = (a: string, b: string) => `${(bytes(a) / bytes(b)).toFixed(2)}× the bytes`;
  return [
    check(
      "SparseLoCo (top 448 of 4096, 2 bits) at about DiLoCo's bytes (within 25%): equal or lower loss",
      Math.abs(bytes("sparse_loco_20_k448") / bytes("diloco_100") - 1) <= 0.25 &&
        bits("sparse_loco_20_k448") <= bits("diloco_100"),
      `${bits("sparse_loco_20_k448").toFixed(3)} vs ${bits("diloco_100").toFixed(3)} bits/token, ${
        ratio("sparse_loco_20_k448", "diloco_100")
      }`,
    ),
    check(
      "SparseLoCo (top 64 of 4096, 2 bits) at the same period as DiLoCo: within 2% of its loss",
      bits("sparse_loco_20") <= 1.02 * bits("diloco_20"),
      `${bits("sparse_loco_20").toFixed(3)} vs ${bits("diloco_20").toFixed(3)} bits/token, ${
        ratio("sparse_loco_20", "diloco_20")
      }`,
    ),
  ];
};
export default expectations;
