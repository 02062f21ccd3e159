"""Any buffer-protocol object works as key, value or output buffer (no copies)."""
import array

from mochi.margo import Engine
from mochi.yokan.server import Provider
from mochi.yokan.client import Client

engine = Engine('tcp')
provider = Provider(engine=engine, provider_id=42, config='{"database":{"type":"map"}}')
db = Client(engine=engine).make_database_handle(address=engine.addr(), provider_id=42)

db.put("str-key", "a str is sent as its UTF-8 bytes")
db.put(b"bytes-key", bytearray(b"a bytearray value"))
db.put(memoryview(b"__view-key__")[2:10], array.array("i", [1, 2, 3, 4]))

# read into part of a larger buffer through a memoryview slice
big = bytearray(b"." * 40)
n = db.get("str-key", memoryview(big)[4:])
print("into a slice:", big.decode())

# values can be looked at inside a callback without copying (read-only, only during the call)
def show(index, key, value):
    print(f"  fetched {bytes(key) if not isinstance(key, str) else key!r}: {len(value)} bytes")

db.fetch_multi([b"bytes-key", b"view-key"], show)

ints = array.array("i", [0] * 4)
db.get("view-key", ints)
print("array back:", ints.tolist())

# immutable outputs are refused
try:
    db.get("str-key", b"immutable bytes")
except Exception as e:
    print(f"bytes as output: {e}")

del db, provider
engine.finalize()
