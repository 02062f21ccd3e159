"""Each documentation example in examples/yokan runs to completion (exit code 0)."""

import subprocess
import sys

import pytest

from conftest import ROOT, subprocess_env

EXAMPLES = ["quickstart", "server_example", "client_basic", "batch_operations", "list_operations",
            "modes_example", "documents", "error_handling", "context_manager", "numpy_example",
            "higher_level_api", "buffer_protocol"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example(name, tmp_path):
    script = ROOT / "examples" / "yokan" / f"{name}.py"
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=subprocess_env(), cwd=str(tmp_path))
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, f"{name} exited {proc.returncode}\nstdout:\n{out.decode()}\nstderr:\n{err.decode()}"
    assert out.strip(), f"{name} printed nothing"
