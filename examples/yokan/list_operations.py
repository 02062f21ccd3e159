"""Listing keys and key/value pairs in order, with a prefix filter and modes."""
from mochi.margo import Engine
from mochi.yokan.server import Provider
from mochi.yokan.client import Client
from mochi.yokan.mode import Mode

engine = Engine('tcp')
provider = Provider(engine=engine, provider_id=42, config='{"database":{"type":"map"}}')
db = Client(engine=engine).make_database_handle(address=engine.addr(), provider_id=42)

for i in range(8):
    db.put(f"user:{i:02d}", f"profile {i}")
db.put("config:theme", "dark")

keys = [bytearray(16) for _ in range(5)]
sizes = db.list_keys(keys, from_key="", filter="user:", mode=Mode.DEFAULT)
print("keys:", [k[:n].decode() for k, n in zip(keys, sizes)])

sizes = db.list_keys(keys, from_key="user:04", filter="user:", mode=Mode.NO_PREFIX)
print("after user:04 without prefix:", [k[:n].decode() for k, n in zip(keys, sizes)])

pairs = [[bytearray(16), bytearray(32)] for _ in range(3)]
res = db.list_keyvals(pairs, from_key="user:02", filter="user:", mode=Mode.INCLUSIVE)
for (kb, vb), (ks, vs) in zip(pairs, res):
    print(f"  {kb[:ks].decode()} = {vb[:vs].decode()}")

kbuf, vbuf = bytearray(256), bytearray(256)
res = db.list_keyvals_packed(kbuf, vbuf, count=5, from_key="", filter="user:")
print("packed (ksize, vsize):", res)

del db, provider
engine.finalize()
