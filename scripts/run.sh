#!/usr/bin/env bash
# The main job: sets everything up, then starts a group of bedrock servers under mpirun
# (yokan + warabi + flock providers, in-memory backends, from examples/bedrock/config.json),
# runs a Python client that finds them from the group file and stores and reads keys and
# blobs on every rank, queries them, and shuts them all down.
#   bash scripts/run.sh [N]     (N ranks, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export FI_TCP_IFACE=${FI_TCP_IFACE:-lo}
# The bedrock commands are installed next to the interpreter's scripts (may not be on PATH).
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
export PATH
bash examples/bedrock/run.sh "${1:-2}"
echo "main job: OK"
