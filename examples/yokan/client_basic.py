"""The basic key/value calls: put, exists, length, get, erase."""
from mochi.margo import Engine
from mochi.yokan.server import Provider
from mochi.yokan.client import Client

with Engine('tcp') as engine:
    provider = Provider(engine=engine, provider_id=42, config='{"database":{"type":"map"}}')
    db = Client(engine=engine).make_database_handle(address=engine.addr(), provider_id=42)

    db.put("planet", "Neptune")
    print("exists:", db.exists("planet"))
    size = db.length("planet")
    print("length:", size)
    buf = bytearray(size)
    db.get("planet", buf)
    print("value:", buf.decode())
    db.erase("planet")
    print("exists after erase:", db.exists("planet"))

    del db, provider
    engine.finalize()
