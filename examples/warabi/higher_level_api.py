"""Building on Warabi: a key -> blob store, a pickled object store and a versioned store.

Each keeps a small index {key: (RegionID, size)} on the client side.
"""

import pickle

import mochi.margo
from mochi.warabi.client import Client, Exception as WarabiException
from mochi.warabi.server import Provider


class BlobStore:
    def __init__(self, target):
        self.target = target
        self.index = {}

    def put(self, key, data):
        if key in self.index:
            self.delete(key)
        self.index[key] = (self.target.create_and_write(data, persist=True), len(data))

    def get(self, key):
        if key not in self.index:
            raise KeyError(key)
        region, size = self.index[key]
        return self.target.read(region, 0, size)

    def delete(self, key):
        region, _ = self.index.pop(key)
        self.target.erase(region)

    def __contains__(self, key):
        return key in self.index

    def __len__(self):
        return len(self.index)


class ObjectStore(BlobStore):
    def put(self, key, obj):
        super().put(key, pickle.dumps(obj))

    def get(self, key):
        return pickle.loads(super().get(key))


class VersionedStore:
    """Every put keeps the previous versions; get() returns the newest unless asked."""

    def __init__(self, target):
        self.blobs = BlobStore(target)
        self.versions = {}

    def put(self, key, data):
        version = self.versions.get(key, 0)
        self.blobs.put((key, version), data)
        self.versions[key] = version + 1
        return version

    def get(self, key, version=None):
        if version is None:
            version = self.versions[key] - 1
        return self.blobs.get((key, version))


engine = mochi.margo.Engine("na+sm", mochi.margo.server)
provider = Provider(engine, 42, {"target": {"type": "memory", "config": {}}})
target = Client(engine).make_target_handle(str(engine.addr()), 42)

blobs = BlobStore(target)
blobs.put("greeting", b"hello")
blobs.put("greeting", b"hello again")
assert blobs.get("greeting") == b"hello again" and len(blobs) == 1
print("BlobStore:", blobs.get("greeting"))

objects = ObjectStore(target)
objects.put("config", {"layers": [64, 32], "rate": 0.01})
print("ObjectStore:", objects.get("config"))

versions = VersionedStore(target)
for text in (b"v0", b"v1", b"v2"):
    versions.put("doc", text)
assert versions.get("doc") == b"v2" and versions.get("doc", 0) == b"v0"
print("VersionedStore: newest", versions.get("doc"), "oldest", versions.get("doc", 0))

# A region erased behind the store's back surfaces as a Warabi exception.
region, _ = blobs.index["greeting"]
target.erase(region)
try:
    blobs.get("greeting")
except WarabiException as e:
    print("stale index entry:", str(e).split(":")[0])

del target, provider
engine.finalize()
