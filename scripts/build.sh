#!/usr/bin/env bash
# Builds and installs kinako into the current Python (one persistent build tree under build/,
# so a second run only rebuilds what changed). Usage: scripts/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# One compile job at a time on small machines: no parallel link storms.
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
python3 -m pip install --no-build-isolation -q . 2>&1 | grep -v "Running pip as the 'root' user" || true
python3 -c "import _pymargo, mochi.margo" || { echo "kinako failed to install" >&2; exit 1; }
