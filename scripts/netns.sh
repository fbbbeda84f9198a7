#!/usr/bin/env bash
# Several "hosts" on one machine: network namespaces joined by a bridge, each link shaped by a
# token bucket (tc tbf), for testing workers that run on different hosts (root only).
#
#   scripts/netns.sh up PREFIX RATE [RATE…]   one namespace per RATE: PREFIX0, PREFIX1, …
#   scripts/netns.sh down PREFIX              removes them all (and nothing else); idempotent
#
# `up` creates a hub namespace PREFIXh holding a bridge, and for each RATE a namespace PREFIXk
# whose eth0 (10.77.0.<k+1>/24) is a veth into the bridge. The egress of eth0 is shaped with
# `tbf rate RATE` (tc units, such as 20mbit), so everything a namespace sends leaves at most at
# its rate; what it receives is shaped by the sender's link. Every address lives inside the
# namespaces, so several sets with different prefixes coexist. On failure `up` removes what it
# made. It prints one line per namespace: name, address, rate.
set -euo pipefail

SUBNET=10.77.0
die() { echo "netns.sh: $*" >&2; exit 1; }
usage() { die "usage: $0 up PREFIX RATE [RATE…] | down PREFIX"; }

[ $# -ge 2 ] || usage
command=$1
prefix=$2
shift 2
# Namespace names become /run/netns/<name>: keep them plain and short.
[[ "$prefix" =~ ^[a-z][a-z0-9]{0,9}$ ]] || die "PREFIX must be a lower-case letter and up to 9 letters or digits, got \"$prefix\""
[ "$(id -u)" = 0 ] || die "needs root (network namespaces and qdiscs)"
command -v ip >/dev/null && command -v tc >/dev/null || die "needs ip and tc (apt-get install iproute2)"

down() {
  local name
  for name in $(ip netns list | awk '{print $1}'); do
    if [ "$name" = "${prefix}h" ] || [[ "$name" =~ ^${prefix}[0-9]+$ ]]; then
      ip netns delete "$name"
    fi
  done
}

up() {
  [ $# -ge 1 ] || usage
  [ $# -le 200 ] || die "at most 200 namespaces"
  if ip netns list | awk '{print $1}' | grep -qx "${prefix}h"; then
    die "namespaces with the prefix $prefix exist already (remove them with: $0 down $prefix)"
  fi
  trap 'echo "netns.sh: setting up failed; removing ${prefix}*" >&2; down' ERR
  local hub="${prefix}h"
  ip netns add "$hub"
  ip -n "$hub" link set lo up
  ip -n "$hub" link add br0 type bridge
  ip -n "$hub" link set br0 up
  local k=0 rate ns address
  for rate in "$@"; do
    ns="${prefix}${k}"
    address="${SUBNET}.$((k + 1))"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # The veth is born with one end in the hub and the other in the namespace: no name of the
    # root namespace is ever taken, so parallel sets cannot collide.
    ip -n "$hub" link add "v$k" type veth peer name eth0 netns "$ns"
    ip -n "$hub" link set "v$k" master br0 up
    ip -n "$ns" addr add "$address/24" dev eth0
    ip -n "$ns" link set eth0 up
    # burst: enough for a few full frames at any rate used here; latency bounds the queue.
    ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "$rate" burst 64kb latency 100ms
    echo "$ns $address $rate"
    k=$((k + 1))
  done
  trap - ERR
}

case "$command" in
up) up "$@" ;;
down) down ;;
*) usage ;;
esac
