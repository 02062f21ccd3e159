"""Starting a Yokan provider from a dict configuration (passed as a JSON string)."""
import json

from mochi.margo import Engine
from mochi.yokan.server import Provider

engine = Engine('tcp')
config = {
    "database": {
        "type": "map",
        "config": {"use_lock": True},
    }
}
provider = Provider(engine=engine, provider_id=42, config=json.dumps(config))
print(f"Yokan provider 42 listening at {engine.addr()}")
# A real server would now block until a client shuts it down:
# engine.wait_for_finalize()
del provider
engine.finalize()
