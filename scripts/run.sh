#!/usr/bin/env bash
# The main job: sets everything up, starts a server process and runs a client process that
# makes RPCs and a bulk transfer over tcp (loopback), then shuts the server down remotely.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export FI_TCP_IFACE=${FI_TCP_IFACE:-lo}
PROTOCOL=${PROTOCOL:-ofi+tcp://127.0.0.1:0}
workdir=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$workdir"' EXIT
python3 examples/margo/server.py --protocol "$PROTOCOL" --addr-file "$workdir/addr" &
server_pid=$!
for _ in $(seq 1 300); do [ -s "$workdir/addr" ] && break; sleep 0.1; done
[ -s "$workdir/addr" ] || { echo "server did not start" >&2; exit 1; }
python3 examples/margo/client.py --protocol "$PROTOCOL" --addr-file "$workdir/addr"
wait $server_pid
echo "main job: OK"
