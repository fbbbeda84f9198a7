import assert from "node:assert/strict";
import { PendingHandshakes, STAGE } from "./pending_handshakes.ts";

/** A stand-in connection from `host` that records whether it was closed. */
function fakeConn(host: string, name: string): Deno.Conn & { closed: boolean; name: string } {
  const conn = {
    name,
    closed: false,
    remoteAddr: { transport: "tcp", hostname: host, port: 1 },
    close() {
      conn.closed = true;
    },
  };
  return conn as unknown as Deno.Conn & { closed: boolean; name: string };
}

Deno.test("a full set of pending handshakes closes the busiest host's least advanced, oldest first", () => {
  const pending = new PendingHandshakes(4);
  const member = fakeConn("10.0.0.2", "a member from another host");
  const offered = fakeConn("10.0.0.9", "the flood's well-formed offer");
  const silent = [1, 2].map((i) => fakeConn("10.0.0.9", `silent stranger ${i}`));
  pending.add(offered);
  pending.advance(offered, STAGE.offeredThisPlan);
  pending.add(member);
  for (const conn of silent) pending.add(conn);
  // Full (4). The next stranger from the flooding host evicts that host's oldest silent one.
  const next = fakeConn("10.0.0.9", "silent stranger 3");
  pending.add(next);
  const closed = () =>
    [member, offered, ...silent, next].filter((conn) => conn.closed).map((c) => c.name);
  assert.deepEqual(closed(), ["silent stranger 1"]);
  assert.match(pending.evictedBecause(silent[0]!) ?? "", /closed to make room: more than 4/);
  assert.equal(pending.evictedBecause(silent[1]!), null);
  pending.add(fakeConn("10.0.0.9", "silent stranger 4"));
  pending.add(fakeConn("10.0.0.9", "silent stranger 5"));
  // Silent strangers go before the offer; the member from another host is never chosen.
  assert.deepEqual(closed(), ["silent stranger 1", "silent stranger 2", "silent stranger 3"]);
  for (let i = 6; i < 9; i++) pending.add(fakeConn("10.0.0.9", `silent stranger ${i}`));
  assert.equal(member.closed, false);
});

Deno.test("a member that proved the secret leaves the set and is never evicted", () => {
  const pending = new PendingHandshakes(2);
  const member = fakeConn("127.0.0.1", "member");
  pending.add(member);
  pending.delete(member); // proved: what accept_members.ts does on progress "proved"
  for (let i = 0; i < 10; i++) pending.add(fakeConn("127.0.0.1", `stranger ${i}`));
  assert.equal(member.closed, false);
});
