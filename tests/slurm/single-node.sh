#!/usr/bin/env bash
# A real single-node Slurm: sharded runs submitted as a job array must merge
# into the unsharded summary.json bit for bit, and a task killed on purpose
# must show up as a missing shard whose printed re-run command repairs it.
#
# Usage: tests/slurm/single-node.sh SIBSIM SCENARIO WORKDIR
# Needs root and Debian's slurm-wlm and munge (.ci/run installs them).
# Everything it writes lives under WORKDIR (munge key, slurm.conf, spool,
# logs); it stops every daemon it started, by process id.
set -euo pipefail

SIBSIM=$1
SCENARIO=$2
WORK=$3
REPLICATIONS=400
SEED=11
SHARDS=4
WAIT_SECONDS=120

for tool in munged slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
  command -v "$tool" >/dev/null || { echo "missing $tool: install slurm-wlm and munge" >&2; exit 1; }
done

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
STATE="$WORK/slurm"
mkdir -p "$STATE"/{munge,ctld,spool,log}
chmod 711 "$STATE/munge"

pids=()
stop_daemons() {
  # Reverse start order, by pid only: never a broad name.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[$i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
show_logs() {
  for f in "$STATE"/log/*.log "$WORK"/*/slurm-*.log; do
    [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
  done
}
trap 'status=$?; [ $status -ne 0 ] && show_logs >&2; stop_daemons; exit $status' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# Free ports near Slurm's defaults, so a system Slurm on 6817/6818 is left alone.
free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}
CTLD_PORT=$(free_port 16817)
SLURMD_PORT=$(free_port $((CTLD_PORT + 1)))

# munge: a private key and socket.
MUNGE_SOCKET="$STATE/munge/munge.socket"
dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1 count=1024 status=none
chmod 400 "$STATE/munge/munge.key"
munged --foreground --force --socket="$MUNGE_SOCKET" --key-file="$STATE/munge/munge.key" \
  --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/log/munged.log" \
  --seed-file="$STATE/munge/munged.seed" >>"$STATE/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$MUNGE_SOCKET" ] && break; sleep 0.1; done
[ -S "$MUNGE_SOCKET" ] || fail "munged did not open its socket"

HOST=$(uname -n | cut -d. -f1)
export SLURM_CONF="$STATE/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=sibsimtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=600
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -D -f "$SLURM_CONF" -i >>"$STATE/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >>"$STATE/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq $((WAIT_SECONDS * 2))); do
  sinfo -h -o %T 2>/dev/null | grep -qx idle && break
  sleep 0.5
done
sinfo -h -o %T | grep -qx idle || fail "the node never became idle: $(sinfo 2>&1)"
echo "slurm up: node $HOST, $(nproc) CPUs, ports $CTLD_PORT/$SLURMD_PORT"

job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' '; }
# Waits until no job of the given ids is pending or running.
wait_jobs() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  while [ -n "$(squeue -h -j "$1" 2>/dev/null)" ]; do
    [ $SECONDS -lt $deadline ] || fail "jobs $1 still queued after ${WAIT_SECONDS}s: $(squeue -j "$1")"
    sleep 0.5
  done
}

# 1. The unsharded reference, run locally.
"$SIBSIM" run "$SCENARIO" --replications $REPLICATIONS --seed $SEED --out "$WORK/local" --quiet
NAME=$(ls "$WORK/local")
REFERENCE="$WORK/local/$NAME/summary.json"
[ -f "$REFERENCE" ] || fail "no local summary.json"

# 2. The same run as a 4-task array plus an afterok merge, submitted by sibsim.
submitted=$("$SIBSIM" slurm "$SCENARIO" --shards $SHARDS --replications $REPLICATIONS --seed $SEED \
  --out "$WORK/cluster" --submit)
echo "$submitted"
ARRAY=$(sed -n 's/^array job \([0-9]*\)$/\1/p' <<<"$submitted")
MERGE=$(sed -n 's/^merge job \([0-9]*\)$/\1/p' <<<"$submitted")
[ -n "$ARRAY" ] && [ -n "$MERGE" ] || fail "sibsim slurm --submit printed no job ids"
wait_jobs "$ARRAY,$MERGE"
[ "$(job_state "$ARRAY")" = "COMPLETED " ] || fail "array $ARRAY ended $(job_state "$ARRAY")"
[ "$(job_state "$MERGE")" = "COMPLETED " ] || fail "merge $MERGE ended $(job_state "$MERGE")"
cmp "$REFERENCE" "$WORK/cluster/$NAME/summary.json" || fail "merged summary.json differs from the local run"
echo "ok: array $ARRAY + merge $MERGE reproduce the local summary.json bit for bit"

# 3. A task killed on purpose: hold the array, cancel task 3, release the rest.
"$SIBSIM" slurm "$SCENARIO" --shards $SHARDS --replications $REPLICATIONS --seed $SEED --out "$WORK/faulty" >/dev/null
mkdir -p "$WORK/faulty/shards"
HELD=$(cd "$WORK/faulty/$NAME.slurm" && sbatch --parsable --hold array.sbatch)
HELD=${HELD%%;*}
scancel "${HELD}_3"
scontrol release "$HELD"
wait_jobs "$HELD"
# A pending task that is cancelled leaves no job record; it must not have run.
[ ! -e "$WORK/faulty/slurm-$NAME-shards-${HELD}_3.log" ] || fail "cancelled task ${HELD}_3 ran anyway"
[ "$(job_state "${HELD}_1")" = "COMPLETED " ] || fail "task ${HELD}_1 ended $(job_state "${HELD}_1")"
set +e
merge_err=$("$SIBSIM" merge "$WORK/faulty/shards" --out "$WORK/faulty" 2>&1 >/dev/null)
merge_status=$?
set -e
echo "$merge_err"
[ $merge_status -eq 2 ] || fail "merge with a missing shard exited $merge_status, not 2"
grep -q "missing shard 3 of 4" <<<"$merge_err" || fail "merge did not name shard 3 as missing"
[ ! -e "$WORK/faulty/$NAME" ] || fail "a failed merge wrote a results folder"
rerun=$(grep -E '^ +sibsim run ' <<<"$merge_err" || true)
[ "$(wc -l <<<"$rerun")" -eq 1 ] && grep -q -- "--shard 3/4" <<<"$rerun" || fail "expected one re-run command for shard 3, got: $rerun"
# Run exactly the printed command, with this build of sibsim.
eval "\"\$SIBSIM\" ${rerun#*sibsim }"
"$SIBSIM" merge "$WORK/faulty/shards" --out "$WORK/faulty"
cmp "$REFERENCE" "$WORK/faulty/$NAME/summary.json" || fail "repaired merge differs from the local run"
echo "ok: killed task 3 reported missing; its re-run command repairs the merge bit for bit"
