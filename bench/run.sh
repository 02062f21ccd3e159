#!/usr/bin/env bash
# Runs the raw libfabric baseline and the engine benchmark back to back (same machine state).
set -euo pipefail
BUILD_DIR=${1:-$(ls -d build/cp3*/ | head -1)}
export FI_TCP_IFACE=lo
"$BUILD_DIR/bench/kinako-bench-raw-fabric" --provider all
"$BUILD_DIR/bench/kinako-bench-engine" 20000
python3 bench/python_echo.py --engine-bench "$BUILD_DIR/bench/kinako-bench-engine"
