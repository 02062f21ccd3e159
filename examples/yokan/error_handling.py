"""Errors are mochi.yokan.exception.Exception, with a Yokan code."""
from mochi.margo import Engine
from mochi.yokan.server import Provider
from mochi.yokan.client import Client
from mochi.yokan.exception import Exception, YOKAN_ERR_KEY_NOT_FOUND

engine = Engine('tcp')
provider = Provider(engine=engine, provider_id=42, config='{"database":{"type":"map"}}')
db = Client(engine=engine).make_database_handle(address=engine.addr(), provider_id=42)

# a missing key
try:
    db.get("no-such-key", bytearray(8))
except Exception as e:
    assert e.code == YOKAN_ERR_KEY_NOT_FOUND
    print(f"get failed: {e} (code {e.code})")

# checking first avoids the exception
key = "maybe"
if db.exists(key):
    buf = bytearray(db.length(key))
    db.get(key, buf)
else:
    print(f"{key!r} is not there, nothing to get")

# an unsupported mode (Lua filters are not compiled in) is an error too
try:
    db.list_keys([bytearray(8)], filter="return true", mode=1024)
except Exception as e:
    print(f"unsupported mode: {e} (code {e.code})")

del db, provider
engine.finalize()
