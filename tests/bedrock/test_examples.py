"""examples/bedrock: the example config under mpirun, and the client script against it."""

import json
import subprocess
import sys

import pytest

from bedrock_helpers import bedrock_process  # noqa: F401 (fixtures)
from bedrock_helpers import BEDROCK_SHUTDOWN, MPIRUN, ROOT, subprocess_env, wait_until

EXAMPLE = ROOT / "examples" / "bedrock"


@pytest.mark.skipif(MPIRUN is None, reason="mpirun not found")
def test_example_group_and_client(bedrock_process):
    config = json.loads((EXAMPLE / "config.json").read_text())
    p = bedrock_process(config, nprocs=2)
    addrs = p.addresses()
    group_file = p.workdir / "bedrock.flock"
    assert wait_until(lambda: group_file.exists(), 30)
    out = subprocess.run([sys.executable, str(EXAMPLE / "client.py"), str(group_file)], capture_output=True,
                         text=True, timeout=120, env=subprocess_env())
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all ranks OK" in out.stdout
    for rank, a in enumerate(addrs):
        assert f"rank {rank} at {a}" in out.stdout
    subprocess.run([BEDROCK_SHUTDOWN, "tcp", "-f", str(group_file)], check=True, timeout=60)
    assert p.wait(60) == 0
