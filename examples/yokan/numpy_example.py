"""NumPy arrays go in and out without copies (buffer protocol)."""
import numpy as np

from mochi.margo import Engine
from mochi.yokan.server import Provider
from mochi.yokan.client import Client

engine = Engine('tcp')
provider = Provider(engine=engine, provider_id=42, config='{"database":{"type":"map"}}')
db = Client(engine=engine).make_database_handle(address=engine.addr(), provider_id=42)

matrix = np.random.default_rng(0).random((64, 32))
db.put("matrix", matrix)                         # the array's memory is sent as is

out = np.empty_like(matrix)
db.get("matrix", out)                            # written straight into the array
print("round trip equal:", np.array_equal(matrix, out))

# many arrays in one batch, read back into one preallocated 2-D array
rows = {f"row/{i}": np.full(16, i, dtype=np.int32) for i in range(10)}
db.put_multi(list(rows.items()))
stacked = np.zeros((10, 16), dtype=np.int32)
sizes = db.get_multi([(f"row/{i}", stacked[i]) for i in range(10)])
print("sizes:", sizes[:3], "... sum of row 7:", stacked[7].sum())

# keys can be arrays too
key = np.array([1, 2, 3], dtype=np.uint8)
db.put(key, b"binary key")
print("binary key length:", db.length(key))

del db, provider
engine.finalize()
