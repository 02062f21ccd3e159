"""Batches: one RPC for many keys."""
from mochi.margo import Engine
from mochi.yokan.server import Provider
from mochi.yokan.client import Client

engine = Engine('tcp')
provider = Provider(engine=engine, provider_id=42, config='{"database":{"type":"map"}}')
db = Client(engine=engine).make_database_handle(address=engine.addr(), provider_id=42)

keys = [f"sensor/{i}" for i in range(5)]
values = [f"reading-{i * 11}" for i in range(5)]
db.put_multi(list(zip(keys, values)))

print("exists:", db.exists_multi(keys=keys[:2] + ["sensor/missing"]))
sizes = db.length_multi(keys + ["sensor/missing"])
print("lengths:", sizes)                       # None for the missing key

buffers = [bytearray(n) for n in sizes[:-1]]
got = db.get_multi(list(zip(keys, buffers)))   # sizes written (None if missing, -1 if too small)
for k, b, n in zip(keys, buffers, got):
    print(f"  {k} -> {b[:n].decode()}")

db.erase_multi(keys[:3])
print("count after erase_multi:", db.count())

del db, provider
engine.finalize()
