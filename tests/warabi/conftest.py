"""Shared fixtures for the mochi.warabi tests.

Loopback only: explicit 127.0.0.1 tcp addresses or na+sm, and FI_TCP_IFACE=lo.
Cross-process tests run tests/warabi/servers/warabi_server.py (WarabiServer); every server is
killed when its test ends, and servers exit on their own if the test process dies.
"""

import json
import os
import pathlib
import sys

os.environ["FI_TCP_IFACE"] = "lo"

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYTHON_DIR = ROOT / "python"
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
SERVER_SCRIPT = HERE / "servers" / "warabi_server.py"
EXAMPLES_DIR = ROOT / "examples" / "warabi"


def subprocess_env(**extra):
    return common_subprocess_env(PYTHON_DIR, **extra)


def target_config(kind, directory, name="store"):
    """Provider config for a target kind: memory, abtio, pmdk, or '<kind>+pipeline'."""
    base, _, tm = kind.partition("+")
    d = pathlib.Path(directory)
    if base == "memory":
        target = {"type": "memory", "config": {}}
    elif base == "abtio":
        target = {"type": "abtio", "config": {"path": str(d / f"{name}.abtio"), "create_if_missing": True}}
    elif base == "abtio_direct":
        target = {"type": "abtio", "config": {"path": str(d / f"{name}.abtio"), "create_if_missing": True,
                                              "directio": True, "alignment": 4096}}
    elif base == "pmdk":
        target = {"type": "pmdk", "config": {"path": str(d / f"{name}.pmem"),
                                             "create_if_missing_with_size": 512 << 20}}
    else:
        raise ValueError(kind)
    config = {"target": target}
    if tm == "pipeline":
        config["transfer_manager"] = {"type": "pipeline", "config": {
            "num_pools": 3, "num_buffers_per_pool": 4, "first_buffer_size": 65536, "buffer_size_multiplier": 8}}
    return config


class WarabiServer(server_process.ServerProcess):
    """A server process holding providers {provider_id: config}; kill() is the SIGKILL crash
    the durability tests simulate."""

    _count = 0

    def __init__(self, workdir, providers, protocol=TCP, rpc_threads=1, env=None):
        WarabiServer._count += 1
        n = WarabiServer._count
        workdir = pathlib.Path(workdir)
        addr_file = workdir / f"warabi-server-{n}.addr"
        cmd = [sys.executable, str(SERVER_SCRIPT), "--protocol", protocol, "--addr-file", str(addr_file),
               "--providers", json.dumps({str(k): v for k, v in providers.items()}),
               "--rpc-threads", str(rpc_threads)]
        super().__init__(workdir, f"warabi-server-{n}", cmd, addr_file, subprocess_env(**(env or {})),
                         merge_stderr=True)

    def output(self):
        return self.stdout()


@pytest.fixture
def make_server(tmp_path):
    servers = []

    def factory(providers, **kwargs):
        s = WarabiServer(tmp_path, providers, **kwargs)
        servers.append(s)
        return s

    yield factory
    for s in servers:
        s.close()


@pytest.fixture
def client_engine():
    import mochi.margo

    e = mochi.margo.Engine(TCP, mochi.margo.client)
    yield e
    e.finalize()


@pytest.fixture
def sm_client_engine():
    import mochi.margo

    e = mochi.margo.Engine(SM, mochi.margo.client)
    yield e
    e.finalize()


@pytest.fixture
def local_engine():
    """An in-process na+sm server engine (provider and client in one process)."""
    import mochi.margo

    e = mochi.margo.Engine(SM, mochi.margo.server)
    yield e
    e.finalize()


# Regions of several sizes (empty, tiny, a few KiB, 3 MiB: chunked with transfer_size=1 MiB)
# that migration and restore tests write, move and then compare.
COPY_SIZES = (0, 10, 5000, 3 << 20)


def fill_regions(t, sizes=COPY_SIZES):
    """{region: bytes} written (and persisted) through the TargetHandle t."""
    return {t.create_and_write(d, persist=True): d for d in (os.urandom(n) for n in sizes)}


def check_copied(t, contents, mapping):
    """Every region of `contents` reads back the same through t under its new id in `mapping`."""
    assert set(mapping) == set(contents)
    for old, new in mapping.items():
        assert t.read(new, 0, len(contents[old])) == contents[old]


def check_abtio_installed(provider, dst_file):
    """`provider` got an abtio target like a source with alignment 64 (carried over) at
    dst_file, with merge_config {"sync": True} merged over the source's config."""
    got = provider.get_config()["target"]
    assert got["type"] == "abtio"
    assert got["config"]["path"] == str(dst_file)
    assert got["config"]["alignment"] == 64  # from the source
    assert got["config"]["sync"] is True  # merged over it
    assert got["config"]["override_if_exists"] is False
