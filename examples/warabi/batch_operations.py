"""Batches: keep many requests in flight instead of one round trip at a time."""

import mochi.margo
from mochi.warabi.client import Client
from mochi.warabi.server import Provider

engine = mochi.margo.Engine("na+sm", mochi.margo.server)
provider = Provider(engine, 42, {"target": {"type": "memory", "config": {}}})
target = Client(engine).make_target_handle(str(engine.addr()), 42)

count = 10
regions = [req.wait() for req in [target.create_async(100) for _ in range(count)]]
payloads = [(f"item {i:03d} " * 10).encode().ljust(100, b".") for i in range(count)]
for w in [target.write_async(r, 0, p) for r, p in zip(regions, payloads)]:
    w.wait()
buffers = [bytearray(100) for _ in range(count)]
for rd in [target.read_async(r, 0, b) for r, b in zip(regions, buffers)]:
    rd.wait()
assert [bytes(b) for b in buffers] == payloads
for p in [target.persist_async(r, 0, 100) for r in regions]:
    p.wait()
print(f"created, wrote, read back and persisted {count} regions")
for r in regions:
    target.erase(r)
print("erased them")

del target, provider
engine.finalize()
