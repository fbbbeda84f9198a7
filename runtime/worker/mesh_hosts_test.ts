import assert from "node:assert/strict";
import { localHostOf, meshHosts } from "./mesh_hosts.ts";

Deno.test("without flags a worker binds and advertises the address that reached the coordinator", () => {
  assert.deepEqual(meshHosts({ rank: 1 }, "10.9.0.2"), {
    bind: "10.9.0.2",
    advertise: "10.9.0.2",
    problem: null,
  });
  assert.deepEqual(meshHosts({ rank: 1 }, "fd00::2"), {
    bind: "fd00::2",
    advertise: "fd00::2",
    problem: null,
  });
});

Deno.test("a wildcard bind advertises the connection's address, never the wildcard", () => {
  for (const wildcard of ["0.0.0.0", "::", "[::]"]) {
    const hosts = meshHosts({ rank: 2, host: wildcard }, "192.168.7.3");
    assert.equal(hosts.advertise, "192.168.7.3", wildcard);
    assert.equal(hosts.problem, null);
  }
  assert.equal(meshHosts({ rank: 2, host: "0.0.0.0" }, null).advertise, "");
  assert.match(
    meshHosts({ rank: 2, host: "0.0.0.0" }, null).problem ?? "",
    /^Worker 2 listens on 0\.0\.0\.0, which peers cannot dial, .*\(--advertise\)$/,
  );
  assert.match(
    meshHosts({ rank: 0, advertise: "0.0.0.0" }, "10.0.0.1").problem ?? "",
    /--advertise/,
  );
});

Deno.test("flags win: --host binds and is advertised; --advertise alone keeps the bind default", () => {
  assert.deepEqual(meshHosts({ rank: 0, host: "10.0.0.5" }, "127.0.0.1"), {
    bind: "10.0.0.5",
    advertise: "10.0.0.5",
    problem: null,
  });
  assert.deepEqual(meshHosts({ rank: 0, advertise: "[fd00::7]" }, "10.0.0.1"), {
    bind: "10.0.0.1",
    advertise: "fd00::7",
    problem: null,
  });
  assert.deepEqual(meshHosts({ rank: 0, host: "::", advertise: "node3" }, "10.0.0.1"), {
    bind: "::",
    advertise: "node3",
    problem: null,
  });
});

Deno.test("the local address of a real connection, IPv4 and (where the host has it) IPv6", async () => {
  const addresses = ["127.0.0.1"];
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    addresses.push("::1");
  } catch { /* no IPv6 loopback on this host: the IPv4 case still runs */ }
  for (const hostname of addresses) {
    const listener = Deno.listen({ hostname, port: 0 });
    const accepted = listener.accept();
    const conn = await Deno.connect({ hostname, port: (listener.addr as Deno.NetAddr).port });
    assert.equal(localHostOf(conn), hostname);
    conn.close();
    (await accepted).close();
    listener.close();
  }
});
