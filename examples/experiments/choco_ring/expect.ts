/**
 * What the CHOCO-SGD paper leads us to expect (Koloskova, Stich, Jaggi 2019): compressed gossip
 * reaches close to plain gossip's loss at a fraction of its bytes, and so, on a slow network,
 * sooner.
 *
 * @module
 */
import { check, type Expectations, row } from "../../../report/expectations.ts";

const expectations: Expectations = (rows) => {
  const gossip = row(rows, "gossip_ring");
  return [["choco_top_k", 0.02], ["choco_qsgd", 0.2]].flatMap(([name, share]) => {
    const choco = row(rows, name as string);
    const bits = choco.finalBitsPerToken!;
    const baseline = gossip.finalBitsPerToken!;
    const bytes = choco.trainingBytesPerStep / gossip.trainingBytesPerStep;
    return [
      check(
        `${name} ends within 5% of gossip's validation bits per token`,
        bits <= 1.05 * baseline,
        `${bits.toFixed(3)} vs ${baseline.toFixed(3)} bits per token`,
      ),
      check(
        `${name} sends at most ${100 * (share as number)}% of gossip's bytes`,
        bytes <= (share as number),
        `${(100 * bytes).toFixed(2)}%`,
      ),
      check(
        `${name} takes less simulated time than gossip`,
        choco.timeMs < gossip.timeMs,
        `${(choco.timeMs / 1000).toFixed(1)} s vs ${(gossip.timeMs / 1000).toFixed(1)} s`,
      ),
    ];
  });
};
export default expectations;
