"""Asynchronous operations: start several requests, then wait for them.

Do not spin on completed() when the provider shares this process and its progress loop
with the caller: wait() is the call that lets the work finish.
"""

import mochi.margo
from mochi.warabi.client import Client
from mochi.warabi.server import Provider

engine = mochi.margo.Engine("na+sm", mochi.margo.server)
provider = Provider(engine, 42, {"target": {"type": "memory", "config": {}}})
target = Client(engine).make_target_handle(str(engine.addr()), 42)

create = target.create_async(1024)
region = create.wait()
print("created", region)

data = b"written asynchronously"
target.write_async(region, 0, data).wait()
buf = bytearray(len(data))
target.read_async(region, 0, buf).wait()
assert buf == data
target.persist_async(region, 0, len(data)).wait()
print("async write, read and persist done:", bytes(buf))

# Many requests in flight at once.
creates = [target.create_async(64) for _ in range(8)]
regions = [c.wait() for c in creates]
writes = [target.write_async(r, 0, f"region {i}".encode()) for i, r in enumerate(regions)]
for w in writes:
    w.wait()
print("all done:", all(w.completed() for w in writes))
for i, r in enumerate(regions):
    assert target.read(r, 0, len(f"region {i}")) == f"region {i}".encode()

del target, provider
engine.finalize()
