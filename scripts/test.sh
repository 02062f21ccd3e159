#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: C++ unit tests (ctest) and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export FI_TCP_IFACE=lo   # tests stay on loopback
BUILD_DIR=$(ls -d build/cp3*/ 2>/dev/null | head -1)
status=0
if [ -n "$BUILD_DIR" ]; then
  ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 120 || status=1
fi
# Run pytest from outside the source tree's python/ so the installed extension is used.
python3 -m pytest tests -q -p no:cacheprovider --timeout 120 || status=1
exit $status
