"""A test server in a subprocess, shared by the component test folders (margo, yokan, warabi).

The server script writes its address to a file (atomically) once it serves; the object waits
for it, keeps the process's output in files of the test's work directory, and kills the
process (SIGKILL, the crash some tests simulate) when asked or when the test ends.
Each folder's conftest.py builds the command line of its own server script.
"""

import os
import pathlib
import signal
import subprocess
import time

STARTUP_TIMEOUT = 30.0


def kill_and_reap(proc, group=False):
    """SIGKILL a test subprocess that is still running (its whole process group with `group`,
    e.g. mpirun and its ranks) and reap it."""
    if proc.poll() is not None:
        return
    try:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass


def subprocess_env(python_dir, **extra):
    """The environment of a server or example subprocess: loopback only, the package sources
    of `python_dir` first on PYTHONPATH, unbuffered output."""
    env = dict(os.environ)
    env["FI_TCP_IFACE"] = "lo"
    paths = [str(python_dir)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class ServerProcess:
    """`cmd` run in `workdir`; `addr_file` is where it publishes its address.

    stderr goes to its own file unless merge_stderr (then stdout() holds both).
    """

    def __init__(self, workdir, name, cmd, addr_file, env, merge_stderr=False):
        self.workdir = pathlib.Path(workdir)
        self.name = name
        self.addr_file = pathlib.Path(addr_file)
        self.stdout_path = self.workdir / f"{name}.out"
        self.stderr_path = None if merge_stderr else self.workdir / f"{name}.err"
        self._out = open(self.stdout_path, "wb")
        self._err = None if merge_stderr else open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._out,
                                     stderr=subprocess.STDOUT if merge_stderr else self._err,
                                     env=env, cwd=str(self.workdir))
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
        raise RuntimeError(f"{self.name} did not start (rc={self.proc.returncode}):\n"
                           f"stdout: {self.stdout()}\nstderr: {self.stderr()}")

    def stdout(self):
        self._out.flush()
        return self.stdout_path.read_text(errors="replace")

    def stderr(self):
        if self._err is None:
            return ""
        self._err.flush()
        return self.stderr_path.read_text(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        return self.proc.wait(timeout=timeout)

    def kill(self):
        kill_and_reap(self.proc)

    def close(self):
        self.kill()
        self._out.close()
        if self._err is not None:
            self._err.close()
