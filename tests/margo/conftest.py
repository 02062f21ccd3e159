"""Shared fixtures for the mochi.margo tests.

Everything runs on loopback: explicit 127.0.0.1 tcp addresses (or na+sm), and
FI_TCP_IFACE=lo so that libfabric never advertises another interface.
Cross-process tests start tests/margo/servers/rpc_server.py with sys.executable.
"""

import os
import pathlib
import re
import sys
import time

os.environ["FI_TCP_IFACE"] = "lo"

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYTHON_DIR = ROOT / "python"
# Test the sources of the pure-Python package (the extension comes from the install).
if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))

import pytest  # noqa: E402

COMMON_DIR = HERE.parent / "common"
if str(COMMON_DIR) not in sys.path:
    sys.path.insert(0, str(COMMON_DIR))
import server_process  # noqa: E402
from server_process import subprocess_env as common_subprocess_env  # noqa: E402

TCP = "ofi+tcp://127.0.0.1:0"
SM = "na+sm"
SERVER_SCRIPT = HERE / "servers" / "rpc_server.py"


def wait_until(predicate, timeout=10.0, interval=0.01):
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def subprocess_env():
    return common_subprocess_env(PYTHON_DIR)


class ServerProcess(server_process.ServerProcess):
    """A margo server (tests/margo/servers/rpc_server.py) in a subprocess."""

    _count = 0

    def __init__(self, workdir, protocol=TCP, rpc_threads=0, progress_thread=False):
        ServerProcess._count += 1
        n = ServerProcess._count
        workdir = pathlib.Path(workdir)
        addr_file = workdir / f"server-{n}.addr"
        self.marker_dir = workdir / f"server-{n}.markers"
        self.marker_dir.mkdir()
        cmd = [sys.executable, str(SERVER_SCRIPT), "--protocol", protocol,
               "--addr-file", str(addr_file), "--marker-dir", str(self.marker_dir),
               "--rpc-threads", str(rpc_threads)]
        if progress_thread:
            cmd.append("--progress-thread")
        super().__init__(workdir, f"server-{n}", cmd, addr_file, subprocess_env())

    def marker(self, name):
        return self.marker_dir / name

    @property
    def port(self):
        m = re.search(r":(\d+)$", self.address)
        assert m, f"no port in {self.address!r}"
        return int(m.group(1))


@pytest.fixture
def make_server(tmp_path):
    """Factory fixture: make_server(protocol=TCP, rpc_threads=0) -> ServerProcess."""
    servers = []

    def factory(**kwargs):
        s = ServerProcess(tmp_path, **kwargs)
        servers.append(s)
        return s

    yield factory
    for s in servers:
        s.close()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One tcp server process shared by the tests of a module (2 RPC threads)."""
    s = ServerProcess(tmp_path_factory.mktemp("server"), protocol=TCP, rpc_threads=2)
    yield s
    s.close()


@pytest.fixture
def engine():
    """An in-process tcp server engine, finalized after the test."""
    import mochi.margo

    e = mochi.margo.Engine(TCP, mochi.margo.server)
    yield e
    e.finalize()


@pytest.fixture
def client_engine():
    import mochi.margo

    e = mochi.margo.Engine(TCP, mochi.margo.client)
    yield e
    e.finalize()
