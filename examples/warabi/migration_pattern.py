"""Moving data between backends: from a memory target to a file target.

First by hand (read, then create_and_write on the destination), then with kinako's
TargetHandle.migrate, which does the same inside the providers, over RPC.
"""

import os
import shutil
import tempfile

import mochi.margo
from mochi.warabi.client import Client
from mochi.warabi.server import Provider

engine = mochi.margo.Engine("na+sm", mochi.margo.server)
workdir = tempfile.mkdtemp(prefix="warabi-migrate-")
fast = Provider(engine, 1, {"target": {"type": "memory", "config": {}}})
durable = Provider(engine, 2, {"target": {"type": "abtio", "config": {
    "path": os.path.join(workdir, "migrated.dat"), "create_if_missing": True}}})
client = Client(engine)
source = client.make_target_handle(str(engine.addr()), 1)
destination = client.make_target_handle(str(engine.addr()), 2)

datasets = [f"dataset {i}".encode() * 100 for i in range(5)]
items = {source.create_and_write(d): len(d) for d in datasets}

# By hand: copy, verify, then drop the originals.
moved = {}
for region, size in items.items():
    data = source.read(region, 0, size)
    moved[region] = destination.create_and_write(data, persist=True)
    assert destination.read(moved[region], 0, size) == data
for region in items:
    source.erase(region)
print("copied", len(moved), "regions by hand and erased the sources")

# With migrate: the provider pushes every region it holds.
more = [source.create_and_write(os.urandom(5000)) for _ in range(3)]
contents = {r: source.read(r, 0, 5000) for r in more}
mapping = source.migrate(str(engine.addr()), 2, remove_source=True)
for old, new in mapping.items():
    assert destination.read(new, 0, 5000) == contents[old]
print("migrate moved", len(mapping), "regions:", ", ".join(f"{o} -> {n}" for o, n in list(mapping.items())[:1]), "...")

del source, destination, client, fast, durable
engine.finalize()
shutil.rmtree(workdir)
