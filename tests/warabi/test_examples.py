"""Every example of the Warabi Python documentation page, run as a subprocess.

Notes from the reference on the upstream examples: numpy_example reads into a 2-D buffer,
which Warabi refuses ("Buffer must be 1-dimensional"); ours shows that refusal and then uses
a flat view, so the refusal must appear in its output. server_backends asks for type "pmem",
which upstream Warabi does not register; kinako accepts it, so the pmem provider is created.
with_bedrock needs a Bedrock server: run without an address it starts one in its own process
(memory and abtio targets from a JSON config), and it shows that the legacy provider-level
"pool" key is refused by name.
"""

import subprocess
import sys

import pytest

from conftest import EXAMPLES_DIR, subprocess_env

EXPECTED = {
    "quickstart": "read back: Hello from Warabi!",
    "server_basic": "Warabi provider 42 listening at na+sm://",
    "server_backends": "provider 3: pmem target of 1073741824 bytes",
    "client_basic": "both regions erased",
    "regions": "erased them all",
    "buffer_protocol": "partial read: b'a byt'",
    "async_operations": "all done: True",
    "persistence": "all four strategies verified",
    "numpy_example": "read_into a 2-D buffer is refused: Buffer must be 1-dimensional",
    "batch_operations": "created, wrote, read back and persisted 10 regions",
    "migration_pattern": "migrate moved 3 regions",
    "higher_level_api": "stale index entry: Invalid RegionID information",
    "with_bedrock": "memory and abtio targets served by bedrock: OK",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example(name, tmp_path):
    if name == "numpy_example":
        pytest.importorskip("numpy")
    proc = subprocess.run([sys.executable, str(EXAMPLES_DIR / f"{name}.py")], cwd=str(tmp_path),
                          env=subprocess_env(TMPDIR=str(tmp_path)), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert EXPECTED[name] in proc.stdout, proc.stdout
