"""Persistence strategies on a file (abtio) target: immediate, explicit, batched and async."""

import os
import shutil
import tempfile

import mochi.margo
from mochi.warabi.client import Client
from mochi.warabi.server import Provider

engine = mochi.margo.Engine("na+sm", mochi.margo.server)
workdir = tempfile.mkdtemp(prefix="warabi-persist-")
path = os.path.join(workdir, "warabi_persist_demo.dat")
provider = Provider(engine, 42, {"target": {"type": "abtio", "config": {"path": path, "create_if_missing": True}}})
target = Client(engine).make_target_handle(str(engine.addr()), 42)

# 1. Immediate: the write returns once the bytes are durable.
immediate = target.create_and_write(b"durable on return", persist=True)

# 2. Explicit: write now, persist when it matters.
explicit = target.create(64)
target.write(explicit, 0, b"persisted by an explicit call")
target.persist(explicit, 0, 64)

# 3. Batched: several writes, one persist for the whole range.
batched = target.create(3 * 16)
for i in range(3):
    target.write(batched, i * 16, f"record {i:08d}".encode())
target.persist(batched, 0, 3 * 16)

# 4. Async: overlap persistence with other work.
later = target.create_and_write(b"persisted in the background")
pending = target.persist_async(later, 0, 27)
pending.wait()

assert target.read(immediate, 0, 17) == b"durable on return"
assert target.read(explicit, 0, 29) == b"persisted by an explicit call"
assert target.read(batched, 16, 15) == b"record 00000001"
assert target.read(later, 0, 27) == b"persisted in the background"
print("all four strategies verified; file is", os.path.getsize(path), "bytes")

del target, provider
engine.finalize()
shutil.rmtree(workdir)
