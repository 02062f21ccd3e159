"""Collections: a document store with ids 0, 1, 2, ..."""
import json

from mochi.margo import Engine
from mochi.yokan.server import Provider
from mochi.yokan.client import Client

engine = Engine('tcp')
provider = Provider(engine=engine, provider_id=42, config='{"database":{"type":"map"}}')
db = Client(engine=engine).make_database_handle(address=engine.addr(), provider_id=42)

db.create_collection(name="books")
print("collection exists:", db.collection_exists("books"))
books = db.open_collection("books")

ids = [books.store(json.dumps(doc)) for doc in (
    {"title": "Dune", "year": 1965},
    {"title": "Hyperion", "year": 1989},
    {"title": "Solaris", "year": 1961},
)]
print("ids:", ids)

buf = bytearray(books.length(1))
books.load(1, buf)
print("book 1:", json.loads(buf))

books.update(1, json.dumps({"title": "Hyperion", "year": 1989, "read": True}))
buffers = [bytearray(128) for _ in range(3)]
listing = books.list_docs(start_id=0, buffers=buffers)
print("listing (id, size):", listing)
for (doc_id, size), b in zip(listing, buffers):
    print(f"  {doc_id}: {b[:size].decode()}")

books.erase(0)
print("size after erase:", books.size())

del books, db, provider
engine.finalize()
