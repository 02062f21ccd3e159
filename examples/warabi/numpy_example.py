"""NumPy arrays in Warabi regions.

Warabi takes 1-D buffers only: a 2-D array passed as is raises "Buffer must be
1-dimensional" (this example shows it), so pass arr.reshape(-1) or arr.ravel() instead.
"""

import numpy as np

import mochi.margo
from mochi.warabi.client import Client, Exception as WarabiException
from mochi.warabi.server import Provider

engine = mochi.margo.Engine("na+sm", mochi.margo.server)
provider = Provider(engine, 42, {"target": {"type": "memory", "config": {}}})
target = Client(engine).make_target_handle(str(engine.addr()), 42)

vector = np.linspace(0.0, 1.0, 1000)
region = target.create_and_write(vector.tobytes())
restored = np.frombuffer(target.read(region, 0, vector.nbytes), dtype=vector.dtype)
assert np.array_equal(vector, restored)
print("1-D array round trip:", restored[:3], "...")

matrix = np.arange(12, dtype=np.int64).reshape(3, 4)
mregion = target.create_and_write(matrix.reshape(-1))
same = np.frombuffer(target.read(mregion, 0, matrix.nbytes), dtype=matrix.dtype).reshape(matrix.shape)
assert np.array_equal(matrix, same)
print("2-D array stored flat and reshaped:\n", same)

into = np.empty_like(matrix)
try:
    target.read_into(mregion, 0, into.data)  # a 2-D memoryview
except WarabiException as e:
    print("read_into a 2-D buffer is refused:", e)
target.read_into(mregion, 0, into.reshape(-1))
assert np.array_equal(into, matrix)
print("read_into the flattened view works")

# A batch of arrays, each in its own region.
arrays = [np.full(100, i, dtype=np.float32) for i in range(10)]
regions = [target.create_and_write(a) for a in arrays]
for i, r in enumerate(regions):
    back = np.frombuffer(target.read(r, 0, arrays[i].nbytes), dtype=np.float32)
    assert (back == i).all()
print("stored and verified", len(regions), "arrays")

del target, provider
engine.finalize()
