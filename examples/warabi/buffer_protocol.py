"""Any buffer-protocol object works: bytes, bytearray, memoryview, numpy arrays.

Writes never copy the caller's buffer on the client side, and read_into fills a buffer the
caller owns, so large transfers avoid allocations.
"""

import mochi.margo
from mochi.warabi.client import Client
from mochi.warabi.server import Provider

engine = mochi.margo.Engine("na+sm", mochi.margo.server)
provider = Provider(engine, 42, {"target": {"type": "memory", "config": {}}})
target = Client(engine).make_target_handle(str(engine.addr()), 42)

r1 = target.create_and_write(b"from bytes")
r2 = target.create_and_write(bytearray(b"from a bytearray"))
big = bytearray(10 * 1024 * 1024)
for i in range(0, len(big), 4096):
    big[i] = i // 4096 % 256
r3 = target.create_and_write(memoryview(big))
print("stored bytes, bytearray and a 10 MiB memoryview")

out = bytearray(10)
target.read_into(r1, 0, out)
assert out == b"from bytes"
copy = bytearray(len(big))
target.read_into(r3, 0, copy)
assert copy == big
print("read_into filled pre-allocated buffers")

# Reading part of a region: the buffer's size decides how much.
part = bytearray(5)
target.read_into(r2, 5, part)
print("partial read:", bytes(part))
assert part == b"a byt"

del target, provider
engine.finalize()
