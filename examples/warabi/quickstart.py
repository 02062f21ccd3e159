"""Quick start: an in-process Warabi provider on a memory target, then a round trip."""

import mochi.margo
from mochi.warabi.client import Client
from mochi.warabi.server import Provider

engine = mochi.margo.Engine("na+sm", mochi.margo.server)

# A provider with id 42 storing its regions in RAM.
provider = Provider(engine=engine, provider_id=42, config={"target": {"type": "memory", "config": {}}})

client = Client(engine=engine)
target = client.make_target_handle(address=str(engine.addr()), provider_id=42)

message = b"Hello from Warabi!"
region = target.create_and_write(message, persist=True)
print(f"stored {len(message)} bytes in {region}")

back = target.read(region, offset=0, size=len(message))
print(f"read back: {back.decode()}")
assert back == message

del target, client, provider
engine.finalize()
