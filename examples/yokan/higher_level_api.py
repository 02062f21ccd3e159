"""A dict-like wrapper over a Yokan database, with JSON values and a key prefix."""
import json

from mochi.margo import Engine
from mochi.yokan.server import Provider
from mochi.yokan.client import Client


class YokanDict:
    def __init__(self, db, prefix=""):
        self.db, self.prefix = db, prefix

    def _key(self, key):
        return self.prefix + key

    def __setitem__(self, key, value):
        self.db.put(self._key(key), json.dumps(value))

    def __getitem__(self, key):
        size = self.db.length(self._key(key))
        if size is None:
            raise KeyError(key)
        buf = bytearray(size)
        self.db.get(self._key(key), buf)
        return json.loads(buf)

    def __delitem__(self, key):
        if key not in self:
            raise KeyError(key)
        self.db.erase(self._key(key))

    def __contains__(self, key):
        return self.db.exists(self._key(key))

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def update(self, items):
        self.db.put_multi([(self._key(k), json.dumps(v)) for k, v in dict(items).items()])

    def keys(self, batch=16):
        """All keys under the prefix, paging through list_keys."""
        out, last = [], ""
        while True:
            bufs = [bytearray(256) for _ in range(batch)]
            sizes = self.db.list_keys(bufs, from_key=last, filter=self.prefix)
            for b, n in zip(bufs, sizes):
                out.append(b[:n].decode()[len(self.prefix):])
            if len(sizes) < batch:
                return out
            last = self.prefix + out[-1]


engine = Engine('tcp')
provider = Provider(engine=engine, provider_id=42, config='{"database":{"type":"map"}}')
db = Client(engine=engine).make_database_handle(address=engine.addr(), provider_id=42)

users = YokanDict(db, prefix="users/")
users["ada"] = {"born": 1815, "field": "mathematics"}
users.update({"grace": {"born": 1906}, "alan": {"born": 1912}})
print("ada:", users["ada"])
print("has grace:", "grace" in users, "| has bob:", "bob" in users)
print("bob:", users.get("bob", "unknown"))
del users["alan"]
print("keys:", users.keys(batch=1))

del db, provider
engine.finalize()
