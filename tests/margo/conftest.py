"""Shared fixtures for the mochi.margo tests.

Everything runs on loopback: explicit 127.0.0.1 tcp addresses (or na+sm), and
FI_TCP_IFACE=lo so that libfabric never advertises another interface.
Cross-process tests start tests/margo/servers/rpc_server.py with sys.executable.
"""

import os
import pathlib
import re
import signal
import subprocess
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

TCP = "ofi+tcp://127.0.0.1:0"
SM = "na+sm"
SERVER_SCRIPT = HERE / "servers" / "rpc_server.py"
STARTUP_TIMEOUT = 30.0


def wait_until(predicate, timeout=10.0, interval=0.01):
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def subprocess_env():
    env = dict(os.environ)
    env["FI_TCP_IFACE"] = "lo"
    paths = [str(PYTHON_DIR)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ServerProcess:
    """A margo server (tests/margo/servers/rpc_server.py) in a subprocess."""

    _count = 0

    def __init__(self, workdir, protocol=TCP, rpc_threads=0, progress_thread=False):
        ServerProcess._count += 1
        n = ServerProcess._count
        self.workdir = pathlib.Path(workdir)
        self.addr_file = self.workdir / f"server-{n}.addr"
        self.marker_dir = self.workdir / f"server-{n}.markers"
        self.marker_dir.mkdir()
        self.stdout_path = self.workdir / f"server-{n}.out"
        self.stderr_path = self.workdir / f"server-{n}.err"
        cmd = [sys.executable, str(SERVER_SCRIPT), "--protocol", protocol,
               "--addr-file", str(self.addr_file), "--marker-dir", str(self.marker_dir),
               "--rpc-threads", str(rpc_threads)]
        if progress_thread:
            cmd.append("--progress-thread")
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=self._err,
                                     env=subprocess_env(), cwd=str(self.workdir))
        self.address = self._wait_for_address()

    def _wait_for_address(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.addr_file.exists():
                text = self.addr_file.read_text().strip()
                if text:
                    return text
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        self.kill()
        raise RuntimeError(f"server did not start (rc={self.proc.returncode}):\n"
                           f"stdout: {self.stdout()}\nstderr: {self.stderr()}")

    def marker(self, name):
        return self.marker_dir / name

    def stdout(self):
        self._out.flush()
        return self.stdout_path.read_text(errors="replace")

    def stderr(self):
        self._err.flush()
        return self.stderr_path.read_text(errors="replace")

    @property
    def port(self):
        m = re.search(r":(\d+)$", self.address)
        assert m, f"no port in {self.address!r}"
        return int(m.group(1))

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        return self.proc.wait(timeout=timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass

    def close(self):
        self.kill()
        self._out.close()
        self._err.close()


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
