"""Three providers on one engine, one per storage backend: memory, abtio (a file) and pmem.

kinako registers the persistent-memory target as "pmdk" and, as the Warabi documentation
calls it, "pmem": both names work here (Mochi's own Warabi only knows "pmdk").
"""

import os
import shutil
import tempfile

import mochi.margo
from mochi.warabi.server import Exception as WarabiException, Provider

engine = mochi.margo.Engine("na+sm", mochi.margo.server)
workdir = tempfile.mkdtemp(prefix="warabi-backends-")

memory = Provider(engine, 1, {"target": {"type": "memory", "config": {}}})
print("provider 1: memory target")

abtio = Provider(engine, 2, {"target": {"type": "abtio", "config": {
    "path": os.path.join(workdir, "warabi_storage.dat"), "create_if_missing": True}}})
print("provider 2: abtio target in", abtio.get_config()["target"]["config"]["path"])

try:
    pmem = Provider(engine, 3, {"target": {"type": "pmem", "config": {
        "path": os.path.join(workdir, "warabi_pmem.dat"), "create_if_missing_with_size": 1 << 30}}})
    print("provider 3: pmem target of", pmem.get_config()["target"]["config"]["create_if_missing_with_size"], "bytes")
    del pmem
except WarabiException as e:
    print("provider 3: pmem target unavailable:", e)

del memory, abtio
engine.finalize()
shutil.rmtree(workdir)
