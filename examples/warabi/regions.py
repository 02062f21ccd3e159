"""Regions: fixed-size containers written and read at any offset."""

import mochi.margo
from mochi.warabi.client import Client
from mochi.warabi.server import Provider

engine = mochi.margo.Engine("na+sm", mochi.margo.server)
provider = Provider(engine, 42, {"target": {"type": "memory", "config": {}}})
target = Client(engine).make_target_handle(str(engine.addr()), 42)

size = 1 << 20
region = target.create(size)
chunks = {0: b"at the start", 1000: b"a thousand bytes in", 1_000_000: b"near the end"}
for offset, data in chunks.items():
    target.write(region, offset, data)
for offset, data in chunks.items():
    got = target.read(region, offset, len(data))
    assert got == data
    print(f"offset {offset:>9}: {got!r}")

# Unwritten bytes read as zeros.
assert target.read(region, 500, 8) == bytes(8)

target.persist(region, 0, size)
print("persisted the whole 1 MiB region")

several = [target.create(256) for _ in range(5)]
print("created", len(several), "regions:", ", ".join(repr(r) for r in several[:2]), "...")
for r in several + [region]:
    target.erase(r)
print("erased them all")

del target, provider
engine.finalize()
