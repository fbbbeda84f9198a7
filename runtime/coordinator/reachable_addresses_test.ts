import assert from "node:assert/strict";
import { isLoopback, ownAddresses, unreachableLoopback } from "./reachable_addresses.ts";

Deno.test("loopback addresses are told from the others", () => {
  for (const host of ["127.0.0.1", "127.0.1.1", "::1", "localhost", "::ffff:127.0.0.1"]) {
    assert.ok(isLoopback(host), host);
  }
  for (const host of ["10.0.0.1", "128.0.0.1", "fd00::1", "::", "0.0.0.0", "node1"]) {
    assert.ok(!isLoopback(host), host);
  }
});

Deno.test("a loopback mesh address fails the run only when a worker on another host is in it", () => {
  const own = new Set(["127.0.0.1", "10.0.0.1"]);
  // Everything on the coordinator's host, over loopback: fine.
  assert.equal(
    unreachableLoopback(["127.0.0.1:1", "127.0.0.1:2"], ["127.0.0.1", "127.0.0.1"], own),
    null,
  );
  // A worker of this host that came in through its own external address is not elsewhere.
  assert.equal(
    unreachableLoopback(["127.0.1.1:1", "10.0.0.1:2"], ["127.0.1.1", "10.0.0.1"], own),
    null,
  );
  // Seen through a dual-stack listener, this host's own IPv4 address is still its own.
  assert.equal(
    unreachableLoopback(
      ["127.0.1.1:1", "10.0.0.1:2"],
      ["::ffff:127.0.1.1", "::ffff:10.0.0.1"],
      own,
    ),
    null,
  );
  assert.match(
    unreachableLoopback(
      ["127.0.1.1:1", "10.0.0.4:2"],
      ["::ffff:127.0.1.1", "::FFFF:10.0.0.4"],
      own,
    ) ??
      "",
    /but worker 1 reached the coordinator from ::FFFF:10\.0\.0\.4, another host/,
  );
  // Another host and no loopback address: fine.
  assert.equal(
    unreachableLoopback(["10.0.0.1:1", "[fd00::2]:2"], ["10.0.0.1", "fd00::2"], own),
    null,
  );
  const message = unreachableLoopback(
    ["10.0.0.1:1", "10.0.0.3:3", "[::1]:7"],
    ["10.0.0.1", "10.0.0.3", "::1"],
    own,
  );
  assert.equal(
    message,
    "Worker 2 advertises [::1]:7, a loopback address, but worker 1 reached the coordinator from 10.0.0.3, another host, which cannot dial it: start worker 2 with --advertise set to an address of its host that the others reach (its host name may resolve to a loopback address, as /etc/hosts often makes it)",
  );
  // Unknown remotes or unknown own addresses: no check.
  assert.equal(unreachableLoopback(["127.0.0.1:1", "10.0.0.3:3"], [null, null], own), null);
  assert.equal(unreachableLoopback(["127.0.0.1:1"], ["10.0.0.3"], null), null);
});

Deno.test("this host's own addresses include its loopback", () => {
  const own = ownAddresses();
  assert.ok(own !== null && own.has("127.0.0.1"), String([...own ?? []]));
});
