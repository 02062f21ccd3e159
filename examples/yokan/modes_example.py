"""Modes change what an operation does: APPEND, CONSUME, NEW_ONLY, EXIST_ONLY, NO_RDMA."""
from mochi.margo import Engine
from mochi.yokan.server import Provider
from mochi.yokan.client import Client
from mochi.yokan.exception import Exception
import mochi.yokan.mode as mode

engine = Engine('tcp')
provider = Provider(engine=engine, provider_id=42, config='{"database":{"type":"map"}}')
db = Client(engine=engine).make_database_handle(address=engine.addr(), provider_id=42)

# APPEND: three 8-byte puts build one 24-byte value
for chunk in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC"):
    db.put("journal", chunk, mode=mode.YOKAN_MODE_APPEND)
print("journal length:", db.length("journal"))

# CONSUME: get and erase at once
buf = bytearray(24)
db.get("journal", buf, mode=mode.YOKAN_MODE_CONSUME)
print("consumed; still there?", db.exists("journal"))

# NEW_ONLY: refuse to overwrite
db.put("owner", "alice", mode=mode.YOKAN_MODE_NEW_ONLY)
try:
    db.put("owner", "bob", mode=mode.YOKAN_MODE_NEW_ONLY)
except Exception as e:
    print(f"NEW_ONLY refused: {e} (code {e.code})")

# EXIST_ONLY: refuse to create
try:
    db.put("nobody", "x", mode=mode.YOKAN_MODE_EXIST_ONLY)
except Exception as e:
    print(f"EXIST_ONLY refused: {e} (code {e.code})")

# modes combine with |
db.put("token", "t-123")
buf = bytearray(16)
n = db.get("token", buf, mode=mode.YOKAN_MODE_CONSUME | mode.YOKAN_MODE_NO_RDMA)
print("token:", buf[:n].decode(), "remaining keys:", db.count())

del db, provider
engine.finalize()
