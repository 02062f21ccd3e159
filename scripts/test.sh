#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: C++ unit tests (ctest) and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export FI_TCP_IFACE=lo   # tests stay on loopback
# The bedrock commands are installed next to the interpreter's scripts (may not be on PATH).
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
export PATH
BUILD_DIR=$(ls -d build/cp3*/ 2>/dev/null | head -1)
status=0
if [ -n "$BUILD_DIR" ]; then
  ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 120 || status=1
fi
# One pytest process per component: each folder has its own conftest.py and test module
# names (test_api.py, ...) that would clash in a single session.
# tests/packaging builds kinako once more from scratch, as the spack recipe configures it, and
# installs it into a temporary prefix (several minutes; KINAKO_TEST_BUILD_JOBS compile jobs,
# default 2): its build tests carry their own timeout instead of --timeout below.
for dir in tests/*/; do
  [ "$dir" = "tests/cpp/" ] && continue
  ls "$dir"test_*.py >/dev/null 2>&1 || continue
  echo "=== pytest $dir"
  python3 -m pytest "$dir" -q -p no:cacheprovider --timeout 120 || status=1
done
exit $status
