#!/usr/bin/env bash
# A single-node SLURM cluster on localhost, for the SLURM tests (tests/test_slurm.py) and for
# trying `pycheck reproduce --executor slurm` without a cluster. Needs root on Debian/Ubuntu.
#
#   scripts/slurm_localhost.sh start DIR [CTLD_PORT SLURMD_PORT]   # then: export SLURM_CONF=DIR/slurm.conf
#   scripts/slurm_localhost.sh stop DIR
#
# `start` prints the export line to run (eval "$(scripts/slurm_localhost.sh start DIR)" does
# it). Running `start` again with the same DIR restarts a daemon that died; the job state is
# kept under DIR.
#
# `start` installs Debian's slurm-wlm and munge when they are missing, starts munged if no
# munge daemon answers, writes DIR/slurm.conf (2 CPUs, one partition "debug", state and logs
# under DIR; the system's /etc/slurm is not touched) and starts slurmctld and slurmd, then
# waits until the node is idle. Process tracking is proctrack/linuxproc and there is no task
# plugin: cgroups are not available in every container. `stop` cancels this cluster's jobs
# and shuts both daemons down, and the munge daemon too if `start` started it and no other
# SLURM daemon on the machine still runs (another localhost cluster shares the munged).
set -euo pipefail
cmd=${1:?usage: $0 start|stop DIR [CTLD_PORT SLURMD_PORT]}
dir=$(realpath -m "${2:?usage: $0 start|stop DIR}")
export SLURM_CONF="$dir/slurm.conf"

if [ "$cmd" = stop ]; then
  # slurmd leaves running jobs alone when it stops (by design), so cancel them first; without
  # this cluster's slurm.conf the client commands would wait on a controller they cannot find
  if [ -f "$SLURM_CONF" ]; then
    scancel --user="$(id -un)" >/dev/null 2>&1 || true
    for _ in $(seq 60); do
      [ -z "$(squeue --noheader 2>/dev/null)" ] && break
      sleep 0.5
    done
    scontrol shutdown >/dev/null 2>&1 || true
  fi
  # a daemon that missed the shutdown request is stopped through its pid file
  for pidfile in "$dir/slurmctld.pid" "$dir/slurmd.pid"; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    grep -q slurm "/proc/$pid/cmdline" 2>/dev/null || continue  # gone, or a reused pid
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill "$pid" 2>/dev/null || true
  done
  # the munge daemon, if this script started it (a cluster trial found it left running) and
  # no other SLURM daemon still uses it: another localhost cluster started after this one
  # reuses the running munged, and stopping this one had broken that one's sbatch, squeue
  # and sinfo ("Munge encode failed"; session 50, a cluster trial)
  if [ -s "$dir/munged.pid" ]; then
    for pidfile in "$dir/slurmctld.pid" "$dir/slurmd.pid"; do   # ours: wait until gone
      [ -s "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      for _ in $(seq 40); do grep -q slurm "/proc/$pid/cmdline" 2>/dev/null || break; sleep 0.25; done
    done
    if pgrep -x 'slurmctld|slurmd' >/dev/null 2>&1; then
      echo "slurm_localhost: munged left running: another SLURM daemon on this machine uses it" >&2
    else
      pid=$(cat "$dir/munged.pid")
      grep -q munged "/proc/$pid/cmdline" 2>/dev/null && kill "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/munged.pid"
  fi
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "slurm_localhost: needs root" >&2; exit 3; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || { echo "slurm_localhost: no apt-get to install slurm-wlm" >&2; exit 3; }
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge) >/dev/null
fi

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- munged
  mkdir -p "$dir"
  for _ in $(seq 20); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
  cp /run/munge/munged.pid "$dir/munged.pid" 2>/dev/null || true
fi

host=$(hostname -s)
mkdir -p "$dir/state" "$dir/spool"
cat > "$SLURM_CONF" <<EOF
ClusterName=pycheck-localhost
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=${3:-6817}
SlurmdPort=${4:-6818}
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  if sinfo --noheader --format=%t 2>/dev/null | grep -qx idle; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "slurm_localhost: the node did not become idle; see $dir/slurmctld.log and $dir/slurmd.log" >&2
exit 1
