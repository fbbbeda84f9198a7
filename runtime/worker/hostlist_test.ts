import assert from "node:assert/strict";
import { expandHostlist, firstHost, HostlistError, MAX_HOSTS } from "./hostlist.ts";

Deno.test("Slurm host lists expand as scontrol show hostnames does, padding kept", () => {
  const cases: [string, string[]][] = [
    ["vm", ["vm"]],
    ["a,b.example.org", ["a", "b.example.org"]],
    ["node[01-03,7],gpu-a[1-2]", ["node01", "node02", "node03", "node7", "gpu-a1", "gpu-a2"]],
    ["n[8-11]", ["n8", "n9", "n10", "n11"]],
    ["n[008-010]", ["n008", "n009", "n010"]],
    ["n[1-2]-ib", ["n1-ib", "n2-ib"]],
    ["r[1-2]n[3,5]", ["r1n3", "r1n5", "r2n3", "r2n5"]],
    ["x[5],y", ["x5", "y"]],
  ];
  for (const [list, hosts] of cases) assert.deepEqual(expandHostlist(list), hosts, list);
  assert.equal(firstHost("node[07-09],login1"), "node07");
});

Deno.test("a malformed host list is refused with a message quoting it and saying what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["n[1-2", /"n\[1-2" leaves a bracket open/],
    ["n1-2]", /closes a bracket it never opened at 5/],
    ["n[[1]]", /nests brackets at 3/],
    ["n[a-b]", /has "a-b" in brackets, where a number or a range/],
    ["n[]", /has "" in brackets/],
    ["n[3-1]", /backward range 3-1/],
    ["a,,b", /has an empty entry/],
    ["", /has an empty entry/],
    ["n[1-99999999]", new RegExp(`more than ${MAX_HOSTS} hosts`)],
    ["r[1-1000]n[1-1001]", new RegExp(`more than ${MAX_HOSTS} hosts`)],
  ];
  for (const [list, message] of cases) {
    assert.throws(() => expandHostlist(list), (error: unknown) => {
      assert.ok(error instanceof HostlistError, list);
      assert.match(error.message, message);
      return true;
    });
  }
});
