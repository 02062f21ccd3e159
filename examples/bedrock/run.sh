#!/usr/bin/env bash
# Starts N bedrock servers under mpirun (yokan + warabi + flock, in memory), runs the client
# against the group file they write, then stops them with bedrock-shutdown.
#   examples/bedrock/run.sh [N]     (default 2; needs bedrock, bedrock-query, bedrock-shutdown on PATH)
set -euo pipefail
N=${1:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
export FI_TCP_IFACE=${FI_TCP_IFACE:-lo}   # one node: stay on loopback
cd "$WORK"
mpirun -n "$N" bedrock tcp -c "$HERE/config.json" > bedrock.log 2>&1 &
MPIRUN_PID=$!
trap 'kill -INT $MPIRUN_PID 2>/dev/null || true; wait $MPIRUN_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 300); do   # wait (at most 30 s) for every rank
  [ "$(grep -c 'now running' bedrock.log 2>/dev/null || true)" -ge "$N" ] && [ -s bedrock.flock ] && break
  sleep 0.1
done
cat bedrock.log
python3 "$HERE/client.py" bedrock.flock
bedrock-query tcp -f bedrock.flock -q 'return $__config__.providers[0].name;'
bedrock-shutdown tcp -f bedrock.flock
wait $MPIRUN_PID
trap 'rm -rf "$WORK"' EXIT
echo "bedrock group stopped"
