"""Client basics: create, write, read, create_and_write, persist and erase."""

import mochi.margo
from mochi.warabi.client import Client
from mochi.warabi.server import Provider

engine = mochi.margo.Engine("na+sm", mochi.margo.server)
provider = Provider(engine, 42, {"target": {"type": "memory", "config": {}}})
client = Client(engine)
target = client.make_target_handle(str(engine.addr()), 42)

# An empty 4 KiB region, then a write at its start.
region = target.create(size=4096)
payload = b"some bytes for the region"
target.write(region, 0, payload, persist=False)
assert target.read(region, 0, len(payload)) == payload
print("wrote and read", len(payload), "bytes in", region)

# Creating and filling in one request.
other = target.create_and_write(b"created and written at once", persist=True)
print("second region:", other, target.read(other, 0, 27))

# Making a range durable explicitly (a no-op for memory, fdatasync/msync for files and pmem).
target.persist(region, 0, 4096)

for r in (region, other):
    target.erase(r)
print("both regions erased")

del target, client, provider
engine.finalize()
