#!/usr/bin/env bash
# A single-node Slurm cluster on this host, for testing `srun … gossamer worker` (root only).
#
# Idempotent: installs slurm-wlm and munge with apt-get when they are missing, writes a minimal
# /etc/slurm/slurm.conf for this host (one node, one partition that oversubscribes, no cgroups,
# so it also runs in containers and VMs), starts munged as the munge user, then slurmctld and
# slurmd, and waits until `sinfo` shows the node idle. Run it again and it changes nothing that
# is already right; a changed configuration restarts the daemons it started.
#
# Usage: sudo sh scripts/slurm_setup.sh        (prints "slurm ready: <node> idle" at the end)
set -euo pipefail

log() { echo "slurm_setup: $*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (it installs packages and starts daemons)"

# --- packages -------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
  ! command -v srun >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || die "slurm-wlm and munge are missing and there is no apt-get"
  log "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq slurm-wlm munge >/dev/null
fi

# --- this host's name, which Slurm's node lists (and so the workers' rendezvous) carry --------
node=$(hostname -s)
if ! getent hosts "$node" >/dev/null; then
  log "adding $node to /etc/hosts (it does not resolve, and workers dial the node by name)"
  echo "127.0.0.1 $node" >>/etc/hosts
fi

# --- munge: the authentication every Slurm daemon and command uses ---------------------------
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
  log "creating /etc/munge/munge.key"
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "starting munged as the munge user"
  rm -f /run/munge/munged.pid
  su -s /bin/sh munge -c /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
  munge -n | unmunge >/dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
fi

# --- slurm.conf ------------------------------------------------------------------------------
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
wanted=$(mktemp)
trap 'rm -f "$wanted"' EXIT
cat >"$wanted" <<EOF
# Written by gossamer's scripts/slurm_setup.sh: one node, for tests.
ClusterName=gossamer
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=gossamer Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
EOF

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

changed=no
if ! cmp -s "$wanted" /etc/slurm/slurm.conf; then
  log "writing /etc/slurm/slurm.conf"
  cp "$wanted" /etc/slurm/slurm.conf
  chmod 0644 /etc/slurm/slurm.conf
  changed=yes
fi

if [ "$changed" = yes ]; then
  # Daemons started with another configuration: stop them (by their pid files) to restart.
  for pidfile in /run/slurmd.pid /run/slurmctld.pid; do
    if running "$pidfile"; then
      log "stopping $(basename "$pidfile" .pid) to restart it with the new configuration"
      pid=$(cat "$pidfile")
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
  done
fi

# --- daemons ---------------------------------------------------------------------------------
if ! running /run/slurmctld.pid; then
  log "starting slurmctld"
  slurmctld
fi
if ! running /run/slurmd.pid; then
  log "starting slurmd"
  slurmd
fi

# --- wait until the node takes jobs ----------------------------------------------------------
state=""
for i in $(seq 150); do
  state=$(sinfo -h -n "$node" -o %t 2>/dev/null | head -n 1 || true)
  case "$state" in
  idle | mix | alloc) break ;;
  down* | drain* | drng*)
    # A node left down by an earlier start: it is back now.
    [ $((i % 10)) = 1 ] && scontrol update nodename="$node" state=resume 2>/dev/null || true
    ;;
  esac
  sleep 0.2
done
case "$state" in
idle | mix | alloc) echo "slurm ready: $node $state" ;;
*) die "the node $node is \"$state\" after 30 s (see /var/log/slurm/slurmctld.log and slurmd.log)" ;;
esac
