#!/usr/bin/env bash
# Installs every Debian package and Python package kinako needs to build, run and test.
# Idempotent: packages already present are skipped, so CI and developers can call it every time.
set -euo pipefail

DEB_PACKAGES=(
  build-essential pkg-config
  libfabric-dev libfabric-bin          # transport (tcp;ofi_rxm, shm)
  libboost-fiber-dev libboost-context-dev   # user-level threads (pools / xstreams)
  nlohmann-json3-dev                   # JSON configs
  libspdlog-dev libfmt-dev             # logging
  mpich libmpich-dev                   # mpirun for servers and groups
  libgtest-dev                         # C++ unit tests
  libxxhash-dev                        # stable RPC-name hashing
  librocksdb-dev liblmdb-dev libleveldb-dev   # yokan persistent backends
  libpmemobj-dev                       # warabi pmdk target
  libtomlplusplus-dev                  # bedrock -t (TOML configs)
  liblua5.4-dev                        # yokan LUA_FILTER listings
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install-deps] installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
PIP_PACKAGES=(pybind11 scikit-build-core numpy attrs pytest pytest-timeout mpi4py ConfigSpace)
need=()
for p in "${PIP_PACKAGES[@]}"; do
  mod=${p//-/_}
  case "$p" in pytest-timeout) mod=pytest_timeout;; scikit-build-core) mod=scikit_build_core;; esac
  $PY -c "import $mod" 2>/dev/null || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "[install-deps] installing Python packages: ${need[*]}"
  $PY -m pip install -q "${need[@]}"
fi
echo "[install-deps] done"
