"""Helpers and fixtures shared by the mochi.bedrock / mochi.flock tests.

They live in a module with its own name, imported by each test module, rather than in a
conftest.py: the other test directories do `from conftest import ...`, which picks whichever
conftest module was loaded first when several directories are collected in one run.

Loopback only (FI_TCP_IFACE=lo, 127.0.0.1). The `bedrock`, `bedrock-query` and
`bedrock-shutdown` commands are looked up in $KINAKO_BEDROCK_BIN, then next to the
pybedrock_server extension's build directory, then on PATH. Every process a test starts is
killed at the end of the test.
"""

import contextlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

os.environ["FI_TCP_IFACE"] = "lo"

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYTHON_DIR = ROOT / "python"
if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))
COMMON_DIR = ROOT / "tests" / "common"
if str(COMMON_DIR) not in sys.path:
    sys.path.insert(0, str(COMMON_DIR))
from server_process import kill_and_reap  # noqa: E402

TCP = "ofi+tcp://127.0.0.1:0"
STARTUP_TIMEOUT = 30.0


def _find_tool(name):
    env = os.environ.get("KINAKO_BEDROCK_BIN")
    if env and (pathlib.Path(env) / name).exists():
        return str(pathlib.Path(env) / name)
    try:
        import pybedrock_server

        build = pathlib.Path(pybedrock_server.__file__).resolve().parent.parent.parent  # build/<x>/src
        cand = build / "bedrock" / name
        if cand.exists():
            return str(cand)
    except ImportError:
        pass
    return shutil.which(name)


def _find_sample_library():
    env = os.environ.get("KINAKO_BEDROCK_SAMPLE_LIB")
    if env:
        return env
    try:
        import pybedrock_server

        build = pathlib.Path(pybedrock_server.__file__).resolve().parent.parent.parent.parent
        cand = build / "tests" / "cpp" / "bedrock" / "libkinako-bedrock-sample.so"
        if cand.exists():
            return str(cand)
    except ImportError:
        pass
    # an installed wheel: the library stays in the persistent build tree (build/<wheel tag>)
    for cand in sorted(ROOT.glob("build/*/tests/cpp/bedrock/libkinako-bedrock-sample.so")):
        return str(cand)
    return None


BEDROCK = _find_tool("bedrock")
BEDROCK_QUERY = _find_tool("bedrock-query")
BEDROCK_SHUTDOWN = _find_tool("bedrock-shutdown")
SAMPLE_LIB = _find_sample_library()
MPIRUN = shutil.which("mpirun")


def wait_until(predicate, timeout=10.0, interval=0.02):
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


class BedrockProcess:
    """`bedrock` (or `mpirun -n N bedrock`) in a subprocess, with a flock group file."""

    def __init__(self, workdir, config, nprocs=None, extra_args=(), mpi_args=()):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "config.json"
        self.config_path.write_text(config if isinstance(config, str) else json.dumps(config))
        self.out_path = self.workdir / "bedrock.out"
        self._out = open(self.out_path, "wb")
        cmd = [BEDROCK, TCP, "-c", str(self.config_path), *extra_args]
        if nprocs is not None:
            cmd = [MPIRUN, *mpi_args, "-n", str(nprocs), *cmd]
        self.nprocs = nprocs or 1
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=subprocess.STDOUT, env=subprocess_env(),
                                     cwd=str(self.workdir), start_new_session=True)

    def output(self):
        self._out.flush()
        return self.out_path.read_text(errors="replace")

    def addresses(self, timeout=STARTUP_TIMEOUT):
        """Waits until every rank printed its address; returns them (rank order)."""
        def ready():
            lines = [l for l in self.output().splitlines() if "Bedrock daemon now running at" in l]
            return lines if len(lines) >= self.nprocs else None

        lines = wait_until(lambda: ready() or self.proc.poll() is not None, timeout)
        lines = ready()
        if not lines:
            raise RuntimeError(f"bedrock did not start (rc={self.proc.poll()}):\n{self.output()}")
        by_rank = {}
        for l in lines:
            rank = int(l.split("[rank ")[1].split("]")[0]) if "[rank " in l else 0
            by_rank[rank] = l.rsplit(" ", 1)[1].strip()
        return [by_rank[r] for r in sorted(by_rank)]

    def rank_pids(self):
        """PIDs of the bedrock processes (children of mpirun's proxy, or the process itself)."""
        if self.nprocs == 1 and not self.proc.args[0].endswith("mpirun"):
            return [self.proc.pid]
        out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,args="], capture_output=True, text=True).stdout
        rows = [l.split(None, 2) for l in out.splitlines()]
        family, found = {self.proc.pid}, []
        changed = True
        while changed:  # descendants of mpirun
            changed = False
            for pid, ppid, *rest in rows:
                if int(ppid) in family and int(pid) not in family:
                    family.add(int(pid))
                    changed = True
                    if rest and rest[0].split()[0] == BEDROCK:
                        found.append(int(pid))
        # Under mpirun each rank is a sentinel and its server child (src/bedrock/tools/
        # rank_sentinel.hpp): the servers are the bedrock processes with no bedrock child.
        parents = {int(ppid) for pid, ppid, *rest in rows if int(pid) in found}
        return [pid for pid in found if pid not in parents]

    def wait(self, timeout):
        return self.proc.wait(timeout=timeout)

    def kill(self):
        kill_and_reap(self.proc, group=True)  # mpirun and every rank

    def close(self):
        self.kill()
        self._out.close()


@pytest.fixture
def bedrock_process(tmp_path):
    """Factory: bedrock_process(config, nprocs=None, extra_args=(), mpi_args=())."""
    if BEDROCK is None:
        pytest.skip("the bedrock command was not found")
    procs = []
    count = [0]

    def factory(config, **kwargs):
        count[0] += 1
        p = BedrockProcess(tmp_path / f"bedrock-{count[0]}", config, **kwargs)
        procs.append(p)
        return p

    yield factory
    for p in procs:
        p.close()


@pytest.fixture
def engine():
    import mochi.margo

    e = mochi.margo.Engine(TCP, mochi.margo.server)
    yield e
    e.finalize()


@pytest.fixture
def server():
    """An in-process bedrock Server with a map yokan provider "db" (id 3)."""
    from mochi.bedrock.server import Server

    s = Server(TCP, {"providers": [{"name": "db", "type": "yokan", "provider_id": 3,
                                    "config": {"database": {"type": "map"}}}]})
    yield s
    s.finalize()


@contextlib.contextmanager
def running_bedrock(args, stdin_text=None, cwd=None):
    """`bedrock tcp ARGS` until it prints its address (yielded); then Ctrl-C must stop it with 0."""
    proc = subprocess.Popen([BEDROCK, TCP, *args], stdin=subprocess.PIPE if stdin_text is not None else None,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=subprocess_env(), text=True,
                            cwd=cwd)
    try:
        if stdin_text is not None:
            proc.stdin.write(stdin_text)
            proc.stdin.close()
        line = proc.stdout.readline()
        assert "Bedrock daemon now running at" in line, line + proc.stdout.read()
        yield line.rsplit(" ", 1)[1].strip()
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
