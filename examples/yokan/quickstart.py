"""Yokan in a few lines: a server engine, a map provider, a client, put/get."""
from mochi.margo import Engine
from mochi.yokan.server import Provider
from mochi.yokan.client import Client

engine = Engine('tcp')
provider = Provider(engine=engine, provider_id=42, config='{"database":{"type":"map"}}')

client = Client(engine=engine)
db = client.make_database_handle(address=engine.addr(), provider_id=42)

db.put("greeting", "hello, yokan")
size = db.length("greeting")          # None if the key did not exist
value = bytearray(size)
db.get("greeting", value)              # fills the pre-allocated buffer
print(f"greeting = {value.decode()} ({db.count()} key(s) in the database)")

del db, provider
engine.finalize()
