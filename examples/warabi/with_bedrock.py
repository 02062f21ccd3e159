"""Warabi through Bedrock: a server composed from a JSON config, used by a client-only engine.

    python with_bedrock.py [ADDRESS]

With ADDRESS (a running `bedrock na+sm -c config.json` that serves the providers below), this
acts only as a client. Without it, it starts the Bedrock server in this process first.
"""

import os
import sys
import tempfile

import mochi.margo
from mochi.bedrock.server import BedrockException, Server
from mochi.warabi.client import Client

workdir = tempfile.mkdtemp(prefix="warabi_bedrock_")
config = {
    "margo": {"argobots": {
        "pools": [{"name": "warabi_pool", "kind": "fifo_wait", "access": "mpmc"}],
        "xstreams": [{"name": "warabi_es", "scheduler": {"type": "basic_wait", "pools": ["warabi_pool"]}}],
    }},
    "providers": [
        {"name": "blobs_in_memory", "type": "warabi", "provider_id": 1,
         "config": {"target": {"type": "memory", "config": {}}},
         "dependencies": {"pool": "warabi_pool"}},
        {"name": "blobs_in_a_file", "type": "warabi", "provider_id": 2,
         "config": {"target": {"type": "abtio",
                               "config": {"path": os.path.join(workdir, "blobs.dat"), "create_if_missing": True}}},
         "dependencies": {"pool": "warabi_pool"}},
    ],
}

# Older Bedrock configs put "pool" directly in a provider; that form is refused with an error
# naming the key, instead of silently running the provider in another pool.
legacy = {"providers": [{"name": "old", "type": "warabi", "provider_id": 9, "pool": "__primary__",
                         "config": {"target": {"type": "memory", "config": {}}}}]}
try:
    Server("na+sm", legacy).finalize()
except BedrockException as e:
    print("legacy provider-level pool refused:", e)
else:
    sys.exit("the legacy provider-level pool was accepted")

server = None
if len(sys.argv) > 1:
    address = sys.argv[1]
else:
    server = Server("na+sm", config)
    address = str(server.margo.engine.address)
    print("bedrock server at", address, "with providers",
          [p.name for p in server.providers])

engine = mochi.margo.Engine("na+sm", mochi.margo.client)
client = Client(engine)
for provider_id, kind in ((1, "memory"), (2, "abtio")):
    target = client.make_target_handle(address, provider_id)
    region = target.create_and_write(f"stored in the {kind} target".encode(), persist=True)
    data = target.read(region, 0, len(f"stored in the {kind} target"))
    print(f"provider {provider_id} ({kind}):", data)
    target.erase(region)
    del target

print("memory and abtio targets served by bedrock: OK")
del client
engine.finalize()
if server is not None:
    server.finalize()
